package reports

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/surveys"
)

// DigestTopCampaigns is how many campaigns a digest lists.
const DigestTopCampaigns = 3

// Digest scopes: whose classes a digest counts.
const (
	DigestScopeAll        = "all"
	DigestScopeOwn        = "own"
	DigestScopeDepartment = "department"
)

// DigestReport is what a digest card shows about one period [From, To)
// for one scope: the classes that started in it, their pooled check-in
// rate, feedback response rate, CSAT per dimension and NPS (each with its
// n), the manager follow-ups still waiting for an answer and the top
// campaigns sent in it.
//
// In a partial scope (a department head's subtree) every figure is judged
// on its own n against MinN and cleared below it, as the course report
// does: pooled figures pool every class's people of the subtree first.
type DigestReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	// Scope is whose classes are counted: all, own (a coordinator's
	// courses) or department (a department head's subtree).
	Scope      string `json:"scope"`
	Department string `json:"department,omitempty"`
	Partial    bool   `json:"partial,omitempty"`
	MinN       int    `json:"min_n"`
	// Classes counts the sessions the scope may see that started in the
	// period and were not cancelled; Cancelled counts the cancelled ones.
	Classes   int `json:"classes"`
	Cancelled int `json:"cancelled"`
	// Checkin is the pooled check-in rate of those classes (n: their
	// eligible people of the scope); CheckinSuppressed is set when n is
	// below MinN in a partial scope.
	Checkin           Figure `json:"checkin_rate"`
	CheckinSuppressed bool   `json:"checkin_suppressed,omitempty"`
	// Response is the pooled response rate of the classes' feedback
	// surveys; Dimensions the pooled ratings (CSAT) and NPS the pooled
	// NPS, each with its n.
	Response           surveys.ResponseRateResult `json:"response_rate"`
	ResponseSuppressed bool                       `json:"response_suppressed,omitempty"`
	Dimensions         []DimensionRow             `json:"dimensions"`
	NPS                *surveys.NPSResult         `json:"nps,omitempty"`
	NPSSuppressed      bool                       `json:"nps_suppressed,omitempty"`
	// FollowUps counts the manager follow-ups (level 3) of open follow-up
	// surveys of the scope's sessions, whenever they were sent.
	FollowUps DigestFollowUps `json:"follow_ups"`
	// Campaigns are the top campaigns by people who clicked among the
	// people a push of theirs reached in the period.
	Campaigns []DigestCampaign `json:"campaigns"`
}

// DigestFollowUps counts manager follow-ups: Asked is the (manager,
// attendee) pairs a follow-up was sent to (the n), Answered those with a
// complete answer and Open the rest. Suppressed clears them when Asked is
// below the minimum group size of a partial scope.
type DigestFollowUps struct {
	Asked      int  `json:"asked"`
	Answered   int  `json:"answered"`
	Open       int  `json:"open"`
	Suppressed bool `json:"suppressed,omitempty"`
}

// DigestCampaign is one campaign of a digest: Delivered is the people a
// push of it reached in the period (the n), Clicked those of them who
// opened one of its links before the period ended, ClickThrough 100 ×
// Clicked ÷ Delivered.
type DigestCampaign struct {
	ID           uint64 `json:"id"`
	Name         string `json:"name"`
	Delivered    int    `json:"delivered"`
	Clicked      int    `json:"clicked"`
	ClickThrough Figure `json:"click_through"`
	Suppressed   bool   `json:"suppressed,omitempty"`
}

// Digest computes the digest of [from, to) for scope. The scope's actor
// rights choose the classes (Scope.Sessions: a coordinator's own courses, a
// department head's classes with people of the subtree), its department
// subtree the people counted; campaigns are every campaign for the system
// and admins, a coordinator's own (created by them), and for a department
// head every campaign counted on the subtree's people only.
func Digest(ctx context.Context, db *gorm.DB, scope Scope, from, to, now time.Time) (*DigestReport, error) {
	db = db.WithContext(ctx)
	r := &DigestReport{GeneratedAt: now.UTC(), From: from.UTC(), To: to.UTC(), Partial: scope.Partial(), MinN: scope.MinN(0),
		Dimensions: []DimensionRow{}, Campaigns: []DigestCampaign{}}
	switch {
	case r.Partial:
		r.Scope, r.Department = DigestScopeDepartment, scope.Department
	case scope.Actor.Role == store.RoleCoordinator:
		r.Scope = DigestScopeOwn
	default:
		r.Scope = DigestScopeAll
	}
	carriers := db.Table("courses").Select("id").Where("category IN ?", store.CarrierCategories())
	var sessions []store.Session
	q := db.Model(&store.Session{}).Where("sessions.starts_at >= ? AND sessions.starts_at < ? AND sessions.course_id NOT IN (?)", r.From, r.To, carriers)
	if err := scope.Sessions(db, q).Order("sessions.starts_at, sessions.id").Find(&sessions).Error; err != nil {
		return nil, fmt.Errorf("reports: digest sessions: %w", err)
	}
	var ids []uint64
	for _, s := range sessions {
		if s.Status == store.SessionCancelled {
			r.Cancelled++
			continue
		}
		r.Classes++
		ids = append(ids, s.ID)
	}
	if err := r.pool(ctx, db, ids, scope); err != nil {
		return nil, err
	}
	if err := r.followUps(db, scope); err != nil {
		return nil, err
	}
	if err := r.campaigns(db, scope); err != nil {
		return nil, err
	}
	return r, nil
}

// pool computes the pooled check-in, response, rating and NPS figures of
// the classes ids.
func (r *DigestReport) pool(ctx context.Context, db *gorm.DB, ids []uint64, scope Scope) error {
	// Pool every class's people of the scope first, then judge the pooled
	// n (as the course report pools answers): per-class suppression would
	// drop small classes from a large pool.
	raw := scope
	raw.MinGroupSize = 1
	att, err := SessionCounts(ctx, db, ids, raw)
	if err != nil {
		return err
	}
	var total Counts
	for _, id := range ids {
		total.Sum(att[id])
	}
	r.Checkin, _ = checkinFigure(total.CheckedIn, total.Eligible())
	if scope.Hidden(total.Eligible(), 0) {
		r.Checkin, r.CheckinSuppressed = Figure{Definition: r.Checkin.Definition}, true
	}
	fb, aggs, err := feedbackAggregates(ctx, db, ids, scope)
	if err != nil {
		return err
	}
	for _, sv := range fb {
		r.MinN = max(r.MinN, scope.MinN(sv.MinGroupSize))
	}
	pooled := &surveyAgg{values: map[string][]float64{}}
	var def *surveys.Definition
	for _, id := range ids {
		sv, ok := fb[id]
		if !ok {
			continue
		}
		if def == nil {
			d, err := surveys.SurveyDefinition(sv)
			if err != nil {
				return fmt.Errorf("reports: %w", err)
			}
			def = &d
		}
		a := aggs[sv.ID]
		for k, v := range a.values {
			pooled.values[k] = append(pooled.values[k], v...)
		}
		pooled.complete += a.complete
		pooled.partial += a.partial
		pooled.eligible += a.eligible
	}
	if def == nil {
		def = &surveys.Definition{}
	}
	rr, dims, nps, err := pooled.figures(*def)
	if err != nil {
		return fmt.Errorf("reports: digest figures: %w", err)
	}
	r.Response, r.NPS = rr, nps
	if dims != nil {
		r.Dimensions = dims
	}
	if r.Partial {
		// As the course report: every survey figure is cleared when the
		// pooled responses are below the minimum, else each rating and the
		// NPS on its own n.
		r.ResponseSuppressed, r.NPSSuppressed = suppressFigures(r.MinN, pooled.complete+pooled.partial, &r.Response, r.Dimensions, &r.NPS)
	}
	return nil
}

// followUps counts the manager follow-ups of the open follow-up surveys of
// the scope's sessions; a partial scope counts the attendees of its
// subtree.
func (r *DigestReport) followUps(db *gorm.DB, scope Scope) error {
	svs := db.Table("surveys").Select("surveys.id").
		Where("surveys.kind = ? AND surveys.status = ?", store.SurveyManagerFollowup, store.SurveyOpen).
		Where("surveys.session_id IN (?)", scope.Sessions(db, db.Table("sessions").Select("sessions.id")))
	var ids []uint64
	if err := svs.Scan(&ids).Error; err != nil {
		return fmt.Errorf("reports: digest follow-up surveys: %w", err)
	}
	if len(ids) == 0 {
		r.FollowUps.Suppressed = scope.Hidden(0, 0)
		return nil
	}
	asked := scope.people(surveys.EligibleQuery(db, ids...).
		Joins("JOIN employees subj ON subj.id = deliveries.subject_id"), "subj.department")
	var pairs []struct {
		SurveyID   uint64
		EmployeeID uint64
		SubjectID  uint64
	}
	if err := asked.Scan(&pairs).Error; err != nil {
		return fmt.Errorf("reports: digest follow-ups asked: %w", err)
	}
	var done []struct {
		SurveyID   uint64
		EmployeeID uint64
		SubjectID  uint64
	}
	if err := db.Model(&store.SurveyParticipation{}).Select("survey_id, employee_id, subject_id").
		Where("survey_id IN ? AND status IN ?", ids, []string{store.ResponseComplete, store.ParticipationAnswered}).Scan(&done).Error; err != nil {
		return fmt.Errorf("reports: digest follow-ups answered: %w", err)
	}
	answered := make(map[[3]uint64]bool, len(done))
	for _, d := range done {
		answered[[3]uint64{d.SurveyID, d.EmployeeID, d.SubjectID}] = true
	}
	f := DigestFollowUps{Asked: len(pairs)}
	for _, p := range pairs {
		if answered[[3]uint64{p.SurveyID, p.EmployeeID, p.SubjectID}] {
			f.Answered++
		}
	}
	f.Open = f.Asked - f.Answered
	if scope.Hidden(f.Asked, 0) {
		f = DigestFollowUps{Suppressed: true}
	}
	r.FollowUps = f
	return nil
}

// campaigns lists the top campaigns of the period (see Digest for whose).
func (r *DigestReport) campaigns(db *gorm.DB, scope Scope) error {
	switch scope.Actor.Role {
	case "", store.RoleAdmin, store.RoleCoordinator, store.RoleDepartmentHead:
	default:
		return nil
	}
	q := db.Table("deliveries").
		Select("campaign_variants.campaign_id AS campaign_id, COUNT(DISTINCT deliveries.employee_id) AS delivered, "+
			"COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM clicks WHERE clicks.touchpoint_id = deliveries.touchpoint_id AND clicks.delivery_id = deliveries.id AND clicks.clicked_at < ?) THEN deliveries.employee_id END) AS clicked", r.To).
		Joins("JOIN campaign_variants ON campaign_variants.touchpoint_id = deliveries.touchpoint_id").
		Joins("JOIN employees ON employees.id = deliveries.employee_id").
		Where("deliveries.status = ? AND deliveries.sent_at >= ? AND deliveries.sent_at < ?", store.DeliverySent, r.From, r.To)
	if scope.Actor.Role == store.RoleCoordinator {
		q = q.Where("campaign_variants.campaign_id IN (?)", db.Table("campaigns").Select("id").Where("created_by = ? AND created_by <> ''", scope.Actor.Username))
	}
	q = scope.people(q, "employees.department")
	var rows []struct {
		CampaignID uint64
		Delivered  int
		Clicked    int
	}
	if err := q.Group("campaign_variants.campaign_id").Scan(&rows).Error; err != nil {
		return fmt.Errorf("reports: digest campaigns: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	idx := make([]uint64, len(rows))
	for i, c := range rows {
		idx[i] = c.CampaignID
	}
	var cs []store.Campaign
	if err := db.Select("id", "name").Where("id IN ?", idx).Find(&cs).Error; err != nil {
		return fmt.Errorf("reports: digest campaign names: %w", err)
	}
	names := make(map[uint64]string, len(cs))
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	for _, c := range rows {
		dc := DigestCampaign{ID: c.CampaignID, Name: names[c.CampaignID], Delivered: c.Delivered, Clicked: c.Clicked,
			ClickThrough: NewFigure(c.Clicked, c.Delivered, definitionOf("click_through", 0))}
		if scope.Hidden(c.Delivered, 0) {
			dc = DigestCampaign{ID: dc.ID, Name: dc.Name, ClickThrough: Figure{Definition: dc.ClickThrough.Definition}, Suppressed: true}
		}
		r.Campaigns = append(r.Campaigns, dc)
	}
	// Shown ones first, by clickers, then reach, then id.
	sort.SliceStable(r.Campaigns, func(i, j int) bool {
		a, b := r.Campaigns[i], r.Campaigns[j]
		if a.Suppressed != b.Suppressed {
			return !a.Suppressed
		}
		if a.Clicked != b.Clicked {
			return a.Clicked > b.Clicked
		}
		if a.Delivered != b.Delivered {
			return a.Delivered > b.Delivered
		}
		return a.ID < b.ID
	})
	if len(r.Campaigns) > DigestTopCampaigns {
		r.Campaigns = r.Campaigns[:DigestTopCampaigns]
	}
	return nil
}
