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

	"github.com/learnloop/learnloop/adapters/wecom"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/store"
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

// newWeComRig is learnloop with the WeCom adapter (built from its config
// section, as in production, but with unlimited pacing) against the fake
// WeCom: taps are signed, encrypted template_card_event callbacks posted to
// /callbacks/wecom, acknowledged with 200 once stored.
func newWeComRig(b *testing.B) *rig {
	fake, updates := fakeWeCom(b)
	s := newService(b, 40, func(s *service, cfg *config.Config, opts *app.Options) {
		wc, err := wecom.FromConfig(config.WeComConfig{Enabled: true, CorpID: benchCorpID, AgentID: 1000002, Secret: "s", Token: benchToken,
			EncodingAESKey: benchAESKey, APIBase: fake.URL, Timeout: config.Duration(10 * time.Second), CallbackMaxSkew: config.Duration(5 * time.Minute)},
			cfg.HTTP.PublicURL, wecom.WithNow(s.clock), wecom.WithLogger(slog.New(slog.DiscardHandler)), wecom.WithLimiter(unlimited{s.clock}))
		require.NoError(b, err)
		router := bot.InteractionHandlerFunc(func(ctx context.Context, in bot.Interaction) (bot.Reply, error) {
			return s.a.Router().HandleInteraction(ctx, in)
		})
		opts.Messengers = map[bot.Platform]bot.Messenger{bot.PlatformWeCom: wc}
		opts.Mounts = map[string]http.Handler{wecom.CallbackPath: wc.CallbackHandler(router)}
		cfg.Delivery.DefaultPlatform = "wecom"
	})
	s.platform = "wecom"
	r := &rig{name: "WeCom callbacks (signature, AES decrypt, dedup, router, update_template_card)", s: s, clients: 1 << 30}
	r.note = func() string { return fmt.Sprintf("update_template_card calls: %d", updates.Load()) }
	cl := httpClient(100)
	r.taps = func(b *testing.B, ds []store.Delivery) func(i int) error {
		type cb struct{ q, body string }
		cbs := make([]cb, len(ds))
		now := s.clock() // callback timestamps are checked against the app's clock
		for i, d := range ds {
			tok := s.a.Signer().Sign(bot.Claims{Kind: bot.TokenInteraction, DeliveryID: d.ID, Expires: now.Add(48 * time.Hour), Extra: bot.ActionCheckin})
			q, body := wecomCallback(d.UserID, "ll:checkin::"+tok, d.Key, now)
			cbs[i] = cb{q, body}
		}
		return func(i int) error {
			resp, err := cl.Post(s.srv.URL+"/callbacks/wecom?"+cbs[i].q, "text/xml", strings.NewReader(cbs[i].body))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("callback %d: status %d", i, resp.StatusCode)
			}
			return nil
		}
	}
	return r
}
