package bench

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
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
// success (a platform with no limits, for the storm); calls counts the
// update_template_card calls, which a tap no longer makes.
func fakeWeCom(b *testing.B) (srv *httptest.Server, calls *atomic.Int64) {
	calls = new(atomic.Int64)
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
		calls.Add(1)
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	srv = httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv, calls
}

// passiveUpdate checks the answer to a tap from user, read `took` after the
// callback was sent, as WeCom reads it — within 5 s, msg_signature over the token, timestamp,
// nonce and ciphertext, AES for receive id = CorpID, addressed to the tapper
// from the corp, update_button with a replace_name or update_template_card
// with a card — and returns what it is.
func passiveUpdate(user string, took time.Duration, body []byte) (string, error) {
	if d := took; d > 5*time.Second {
		return "", fmt.Errorf("answered after %s: WeCom stopped waiting at 5 s", d)
	}
	var env struct {
		Encrypt, MsgSignature, TimeStamp, Nonce string
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		return "", fmt.Errorf("no passive reply: %q", body)
	}
	if util.Signature(benchToken, env.TimeStamp, env.Nonce, env.Encrypt) != env.MsgSignature {
		return "", errors.New("passive reply: msg_signature does not match")
	}
	_, plain, err := util.DecryptMsg(benchCorpID, env.Encrypt, benchAESKey)
	if err != nil {
		return "", fmt.Errorf("passive reply: %w", err)
	}
	var msg struct {
		ToUserName, FromUserName, MsgType string
		Button                            struct{ ReplaceName string }
		TemplateCard                      *struct{ CardType, TaskId string }
	}
	if err := xml.Unmarshal(plain, &msg); err != nil {
		return "", fmt.Errorf("passive reply: %w", err)
	}
	switch {
	case msg.ToUserName != user || msg.FromUserName != benchCorpID:
		return "", fmt.Errorf("passive reply from %q to %q, tap from %q", msg.FromUserName, msg.ToUserName, user)
	case msg.MsgType == "update_button" && msg.Button.ReplaceName != "":
	case msg.MsgType == "update_template_card" && msg.TemplateCard != nil && msg.TemplateCard.CardType != "" && msg.TemplateCard.TaskId != "":
	default:
		return "", fmt.Errorf("passive reply is no card update: %s", plain)
	}
	return msg.MsgType, nil
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
	fake, calls := fakeWeCom(b)
	var passive atomic.Int64
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
	r := &rig{name: "WeCom callbacks (signature, AES decrypt, dedup, router, passive card update)", s: s, clients: 1 << 30}
	r.note = func() string {
		return fmt.Sprintf("cards updated by the callbacks' passive answers: %d; update_template_card calls: %d", passive.Load(), calls.Load())
	}
	cl := httpClient(100)
	r.taps = func(b *testing.B, ds []store.Delivery) func(i int) error {
		type cb struct{ user, q, body string }
		cbs := make([]cb, len(ds))
		now := s.clock() // callback timestamps are checked against the app's clock
		for i, d := range ds {
			tok := s.a.Signer().Sign(bot.Claims{Kind: bot.TokenInteraction, DeliveryID: d.ID, Expires: now.Add(48 * time.Hour), Extra: bot.ActionCheckin})
			q, body := wecomCallback(d.UserID, "ll:checkin::"+tok, d.Key, now)
			cbs[i] = cb{d.UserID, q, body}
		}
		type answer struct {
			body       []byte
			sent, read time.Time
		}
		answers := make([]answer, len(ds))
		// WeCom's reading of the answers is its own work, not learnloop's:
		// it is checked after the round.
		r.check = func() error {
			for i, a := range answers {
				if _, err := passiveUpdate(cbs[i].user, a.read.Sub(a.sent), a.body); err != nil {
					return fmt.Errorf("callback %d: %w", i, err)
				}
				passive.Add(1)
			}
			return nil
		}
		return func(i int) error {
			sent := time.Now()
			resp, err := cl.Post(s.srv.URL+"/callbacks/wecom?"+cbs[i].q, "text/xml", strings.NewReader(cbs[i].body))
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("callback %d: status %d, %v", i, resp.StatusCode, err)
			}
			answers[i] = answer{body: body, sent: sent, read: time.Now()}
			return nil
		}
	}
	return r
}
