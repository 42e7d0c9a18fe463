package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/store"
)

// WriteTable writes the report as a plain-text table for a terminal or an
// e-mail: the session and its check-in windows, a warning line when the
// check-in rate is low, the headline figures with n and definition, one row per
// touchpoint with its platform breakdown, and the people who have not checked
// in. lang is "zh-CN" (the default, also used for unknown values) or "en".
// Times are shown in the session's time zone.
func (r *SessionReport) WriteTable(w io.Writer, lang string) error {
	en := isEnglish(lang)
	pick := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	def := func(key string) string {
		d := definitionOf(key, time.Duration(r.Windows.AttributionSeconds)*time.Second)
		if en {
			return d.en
		}
		return d.zh
	}
	loc := r.location()
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	s := r.Session
	var b strings.Builder

	fmt.Fprintf(&b, "%s #%d · %s\n", pick("场次报告", "Session report"), s.ID, oneLine(s.Title))
	fmt.Fprintf(&b, "%s%s %s\n", pick("课程：", "Course: "), oneLine(s.CourseCode), oneLine(s.CourseTitle))
	fmt.Fprintf(&b, "%s%s – %s (%s)\n", pick("时间：", "Time: "), ts(s.StartsAt), ts(s.EndsAt), loc.String())
	place := s.Location
	if place == "" {
		place = s.OnlineURL
	}
	fmt.Fprintf(&b, "%s%s    %s%s    %s%s\n",
		pick("地点：", "Place: "), oneLine(place),
		pick("讲师：", "Teacher: "), oneLine(s.Teacher),
		pick("状态：", "Status: "), s.Status)
	fmt.Fprintf(&b, "%s%s %s; %s %s; %s %s; %s %s\n", pick("签到窗口：", "Check-in windows: "),
		pick("开放", "opens"), ts(r.Windows.Opens),
		pick("准时截止", "on time until"), ts(r.Windows.OnTimeUntil),
		pick("迟到截止", "late until"), ts(r.Windows.LateUntil),
		pick("补签截止", "make-up until"), ts(r.Windows.MakeupUntil))
	fmt.Fprintf(&b, "%s%s\n\n", pick("生成时间：", "Generated: "), ts(r.GeneratedAt))

	if r.LowCheckin {
		fmt.Fprintf(&b, "%s\n\n", r.warning(lang))
	}

	count := func(v, n int, withN bool) []string {
		ns := ""
		if withN {
			ns = strconv.Itoa(n)
		}
		return []string{strconv.Itoa(v), ns}
	}
	rate := "—"
	if r.CheckinRate.Value != nil {
		rate = formatValue(r.CheckinRate) + "%"
	}
	headline := []struct {
		key   string
		cells []string
	}{
		{"roster", count(r.Roster, 0, false)},
		{"excused", count(r.Excused, 0, false)},
		{"eligible", count(r.Eligible, 0, false)},
		{"checked_in", count(r.CheckedIn, r.Eligible, true)},
		{"on_time", count(r.OnTime, r.Eligible, true)},
		{"late", count(r.Late, r.Eligible, true)},
		{"makeup", count(r.Makeup, r.Eligible, true)},
		{"checkin_rate", []string{rate, strconv.Itoa(r.CheckinRate.N)}},
	}
	var rows [][]string
	for _, h := range headline {
		rows = append(rows, append(append([]string{label(h.key, lang)}, h.cells...), def(h.key)))
	}
	writeGrid(&b, []string{label("metric", lang), label("value", lang), "n", label("definition", lang)}, rows)

	// Touchpoints.
	window := time.Duration(r.Windows.AttributionSeconds) * time.Second
	fmt.Fprintf(&b, "\n%s\n", pick(
		fmt.Sprintf("推送（点击率、转化率的 n = 发送成功数；归因窗口 %s，归功于签到前最后点击的推送）", formatWindow(window).zh),
		fmt.Sprintf("Touchpoints (n of CTR and conversion = sent; attribution window %s, credit to the last push clicked before check-in)", formatWindow(window).en)))
	if len(r.Touchpoints) == 0 {
		fmt.Fprintf(&b, "%s\n", pick("（无推送）", "(no touchpoints)"))
	} else {
		rate := func(f Figure) string {
			if f.Value == nil {
				return "—"
			}
			return fmt.Sprintf("%s%% (%d/%d)", formatValue(f), f.Numerator, f.N)
		}
		header := []string{"ID", label("kind", lang), label("audience", lang), label("status", lang), label("run_at", lang),
			label("deliveries", lang), label("sent", lang), label("failed", lang), label("dropped", lang), label("pending", lang),
			label("clicks", lang), label("clickers", lang), label("click_through", lang), label("conversions", lang), label("conversion_rate", lang)}
		var rows, prows [][]string
		for _, t := range r.Touchpoints {
			d := t.Deliveries
			rows = append(rows, []string{strconv.FormatUint(t.ID, 10), t.Kind, t.Audience, t.Status, ts(t.RunAt),
				strconv.Itoa(d.Total), strconv.Itoa(d.Sent), strconv.Itoa(d.Failed), strconv.Itoa(d.Dropped), strconv.Itoa(d.Pending),
				strconv.Itoa(t.Clicks), strconv.Itoa(t.Clickers), rate(t.ClickThrough), strconv.Itoa(t.Conversions), rate(t.ConversionRate)})
			for _, p := range t.Platforms {
				top := ""
				if p.TopErrorCount > 0 {
					top = fmt.Sprintf("%s %s ×%d", oneLine(p.TopErrorCode), truncate(oneLine(p.TopErrorMessage), 60), p.TopErrorCount)
				}
				prows = append(prows, []string{strconv.FormatUint(t.ID, 10), p.Platform, strconv.Itoa(p.Total),
					strconv.Itoa(p.Sent), strconv.Itoa(p.Failed), strconv.Itoa(p.Dropped), strconv.Itoa(p.Pending), strings.TrimSpace(top)})
			}
		}
		writeGrid(&b, header, rows)
		if len(prows) > 0 {
			fmt.Fprintf(&b, "\n%s\n", pick("按平台", "By platform"))
			writeGrid(&b, []string{label("touchpoint_id", lang), label("platform", lang), label("deliveries", lang), label("sent", lang),
				label("failed", lang), label("dropped", lang), label("pending", lang), label("top_error", lang)}, prows)
		}
	}

	// Who is missing, then who is excused.
	var missing, excused [][]string
	for _, a := range r.Attendees {
		row := []string{oneLine(a.ExternalID), oneLine(a.Name), oneLine(a.Department)}
		switch {
		case a.Missing:
			missing = append(missing, row)
		case a.Enrollment == store.EnrollExcused:
			excused = append(excused, row)
		}
	}
	people := []string{label("external_id", lang), label("name", lang), label("department", lang)}
	fmt.Fprintf(&b, "\n%s\n", pick(fmt.Sprintf("未签到名单（%d 人）", len(missing)), fmt.Sprintf("Not checked in (%d)", len(missing))))
	if len(missing) > 0 {
		writeGrid(&b, people, missing)
	}
	if len(excused) > 0 {
		fmt.Fprintf(&b, "\n%s\n", pick(fmt.Sprintf("请假（%d 人）", len(excused)), fmt.Sprintf("Excused (%d)", len(excused))))
		writeGrid(&b, people, excused)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// warning is the low-check-in warning line in lang.
func (r *SessionReport) warning(lang string) string {
	f := r.CheckinRate
	if isEnglish(lang) {
		return fmt.Sprintf("⚠ WARNING: check-in rate %s%% (%d of %d eligible) is below 50%% — review this session now.",
			formatValue(f), f.Numerator, f.N)
	}
	return fmt.Sprintf("⚠ 警告：签到率 %s%%（已签到 %d / 应到 %d）低于 50%%，需立即复盘。", formatValue(f), f.Numerator, f.N)
}
