package bench

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

const (
	benchCorpID = "wwbench0000000001"
	benchAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	benchToken  = "benchtoken"
)

// fakeWeCom answers gettoken, message/send and update_template_card with
// success (a platform with no limits, for the storm).
func fakeWeCom(b *testing.B) (*httptest.Server, *atomic.Int64) {
	var updates atomic.Int64
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/gettoken", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","access_token":"bench-access-token","expires_in":7200}`)
	})
	mux.HandleFunc("/cgi-bin/message/send", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","msgid":"m%d","response_code":"rc%d"}`, n.Add(1), n.Load())
	})
	mux.HandleFunc("/cgi-bin/message/update_template_card", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		updates.Add(1)
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv, &updates
}

type cdataB struct {
	Text string `xml:",cdata"`
}

// wecomCallback builds a signed, encrypted template_card_event for a tap.
func wecomCallback(from, eventKey, taskID string, at time.Time) (string, string) {
	type ev struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   cdataB   `xml:"ToUserName"`
		FromUserName cdataB   `xml:"FromUserName"`
		CreateTime   int64    `xml:"CreateTime"`
		MsgType      cdataB   `xml:"MsgType"`
		Event        cdataB   `xml:"Event"`
		EventKey     cdataB   `xml:"EventKey"`
		TaskID       cdataB   `xml:"TaskId"`
		CardType     cdataB   `xml:"CardType"`
		ResponseCode cdataB   `xml:"ResponseCode"`
		AgentID      int64    `xml:"AgentID"`
	}
	plain, _ := xml.Marshal(ev{ToUserName: cdataB{benchCorpID}, FromUserName: cdataB{from}, CreateTime: at.Unix(), MsgType: cdataB{"event"},
		Event: cdataB{"template_card_event"}, EventKey: cdataB{eventKey}, TaskID: cdataB{taskID}, CardType: cdataB{"button_interaction"},
		ResponseCode: cdataB{"rc-" + from}, AgentID: 1000002})
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	enc, err := util.EncryptMsg(random, plain, benchCorpID, benchAESKey)
	if err != nil {
		panic(err)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := strconv.FormatInt(int64(len(from))+at.UnixNano()%1e6, 10)
	q := url.Values{"msg_signature": {util.Signature(benchToken, ts, nonce, string(enc))}, "timestamp": {ts}, "nonce": {nonce}}
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>", benchCorpID, enc)
	return q.Encode(), body
}

// BenchmarkCheckinStormWeCom: 100 clients post verified, encrypted WeCom
// check-in callbacks at once (signature, AES decrypt, dedup, router, INSERT,
// update_template_card), against raw single-row INSERTs at the same
// concurrency.
func BenchmarkCheckinStormWeCom(b *testing.B) {
	if driver() != store.DriverMySQL {
		b.Skip("the storm is measured on MariaDB/MySQL")
	}
	clients := envInt("LEARNLOOP_BENCH_CLIENTS", 100)
	people := envInt("LEARNLOOP_BENCH_PEOPLE", 3000)
	for range b.N {
		fake, updates := fakeWeCom(b)
		db := storetest.Open(b, store.DriverMySQL)
		sqlDB, err := db.DB.DB()
		require.NoError(b, err)
		sqlDB.SetMaxOpenConns(40)
		sqlDB.SetMaxIdleConns(40)
		t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		var h http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
		b.Cleanup(srv.Close)
		cfg := config.Default()
		cfg.Security.DevMode = true
		cfg.Security.LinkSecret = "bench-link-secret-0123456789"
		cfg.HTTP.PublicURL = srv.URL
		cfg.QuietHours.Enabled = false
		cfg.Platforms.WeCom = config.WeComConfig{Enabled: true, CorpID: benchCorpID, AgentID: 1000002, Secret: "s", Token: benchToken,
			EncodingAESKey: benchAESKey, APIBase: fake.URL, Timeout: config.Duration(10 * time.Second), CallbackMaxSkew: config.Duration(5 * time.Minute)}
		cfg.Delivery.DefaultPlatform = "wecom"
		a, err := app.New(context.Background(), cfg, app.Options{DB: db.DB, Now: func() time.Time { return t0 }, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(b, err)
		b.Cleanup(func() { _ = a.Close() })
		h = a.Handler()
		s := &service{a: a, srv: srv, db: db}
		s.now.Store(&t0)
		_, tp := s.seedSession(b, people)
		require.NoError(b, db.Exec("UPDATE employees SET platform = 'wecom', wecom_id = external_id").Error)
		_, err = a.Deliverer.Fire(context.Background(), tp.ID, "0")
		require.NoError(b, err)
		var ds []store.Delivery
		require.NoError(b, db.Where("touchpoint_id = ? AND status = ?", tp.ID, store.DeliverySent).Find(&ds).Error)
		require.Len(b, ds, people)
		type cb struct{ q, body string }
		cbs := make([]cb, len(ds))
		now := t0 // the app's clock: callback timestamps are checked against it
		for i, d := range ds {
			tok := a.Signer.Sign(bot.Claims{Kind: bot.TokenInteraction, DeliveryID: d.ID, Expires: t0.Add(48 * time.Hour), Extra: bot.ActionCheckin})
			q, body := wecomCallback(d.UserID, "ll:checkin::"+tok, d.Key, now)
			cbs[i] = cb{q, body}
		}
		raw := rawInsertRate(b, db.DB, people, clients)
		cl := httpClient(clients)
		b.ResetTimer()
		rate, lat, err := load(len(cbs), clients, func(i int) error {
			resp, err := cl.Post(srv.URL+"/callbacks/wecom?"+cbs[i].q, "text/xml", strings.NewReader(cbs[i].body))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("callback %d: status %d", i, resp.StatusCode)
			}
			return nil
		})
		b.StopTimer()
		require.NoError(b, err)
		var n int64
		require.NoError(b, db.Model(&store.Checkin{}).Count(&n).Error)
		require.EqualValues(b, people, n, "every acknowledged callback is stored")
		b.ReportMetric(rate, "checkins/s")
		b.ReportMetric(raw, "raw_inserts/s")
		b.ReportMetric(rate/raw, "ratio")
		b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99_ms")
		fmt.Printf("check-in storm (WeCom callbacks, verified+decrypted): %d taps, %d clients: %.0f/s (p99 %s) vs raw INSERT %.0f/s → ratio %.2f; card updates %d\n",
			people, clients, rate, p99(lat).Round(time.Millisecond), raw, rate/raw, updates.Load())
	}
}
