package dingtalk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	scard "github.com/open-dingtalk/dingtalk-stream-sdk-go/card"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/handler"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/text"
)

// CardCallbackTopic is the Stream topic of card callbacks.
const CardCallbackTopic = payload.CardInstanceCallbackTopic

// streamKeepAlive is how long a quiet Stream connection waits before a
// websocket ping.
const streamKeepAlive = 60 * time.Second

// sdkLoggerOnce materializes the Stream SDK's default (silent) logger once.
// The SDK creates it lazily in logger.GetLogger without synchronization, a
// data race as soon as two Stream clients start at the same time (Run and
// Doctor, or tests). Initializing it once, before any client exists, keeps
// the SDK's behaviour and removes the race. We do not install our own
// logger: it is a process global, and the SDK's debug lines carry the app
// secret.
var sdkLoggerOnce sync.Once

// streamMaxHandlers bounds the card callbacks handled at once over Stream.
const streamMaxHandlers = 4096

// newStream builds a Stream client whose card callbacks go to h and robot
// messages to th (each when not nil).
func (c *Client) newStream(h bot.InteractionHandler, th bot.TextHandler) *client.StreamClient {
	sdkLoggerOnce.Do(func() { _ = logger.GetLogger() })
	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(c.cfg.AppKey, c.cfg.AppSecret)),
		client.WithOpenApiHost(c.cfg.APIBase),
		client.WithAutoReconnect(true),
		client.WithKeepAlive(streamKeepAlive),
		// Past this many taps in flight the SDK leaves frames unacknowledged,
		// and DingTalk does not redeliver card callbacks: the limit must
		// exceed the largest class tapping at once (a 300-person all-hands),
		// with room to spare. A handler is a goroutine waiting on the
		// group-committed check-in write.
		client.WithMaxPendingHandlers(streamMaxHandlers),
	)
	if h != nil {
		cli.RegisterCallbackRouter(CardCallbackTopic, c.cardFrameHandler(h))
	}
	if th != nil {
		cli.RegisterCallbackRouter(BotMessageTopic, c.botFrameHandler(th))
	}
	if c.contact != nil {
		cli.RegisterAllEventRouter(c.eventFrameHandler())
	}
	return cli
}

// Run receives card callbacks and robot messages (when h is also a
// bot.TextHandler; chat.go) through Stream mode and hands each to h until
// ctx ends. It answers every callback after h has returned; a frame
// seen twice (the same messageId) is answered from the first run. DingTalk
// does not redeliver an unanswered or failed card callback, so a tap that
// cannot be stored is answered with a "tap again" toast (see
// cardFrameHandler) rather than an error. It returns nil when ctx ends.
// Without a card template (work notifications have no callbacks), or when
// card callbacks go to a registered HTTP route, it receives only 通讯录
// events (WithContactHandler), or only waits for ctx.
func (c *Client) Run(ctx context.Context, h bot.InteractionHandler) error {
	th := bot.TextHandlerOf(h) // robot messages (chat.go)
	if !c.streamCallbacks() && c.contact == nil && th == nil {
		<-ctx.Done()
		return nil
	}
	if !c.streamCallbacks() {
		h = nil // no card taps over Stream
	}
	cli := c.newStream(h, th)
	defer cli.Close()
	backoff := time.Second
	for {
		err := cli.Start(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("dingtalk stream connect failed; retrying", "err", c.redact(err.Error()), "in", backoff)
		if kit.Sleep(ctx, backoff) != nil {
			return nil
		}
		backoff = min(2*backoff, time.Minute)
	}
	c.log.Info("dingtalk stream connected")
	<-ctx.Done()
	return nil
}

// streamCallbacks reports whether card taps arrive over Stream: always with
// a card template, unless HTTP card callbacks are routed with a route key.
// (callback_mode http moves event subscriptions to /callbacks/dingtalk;
// cards still call back over Stream.)
func (c *Client) streamCallbacks() bool {
	return c.CardMode() && !(c.cfg.CallbackMode == ModeHTTP && c.cfg.CallbackRouteKey != "")
}

// checkStream asks the gateway for a connection ticket without connecting.
func (c *Client) checkStream(ctx context.Context) error {
	cli := c.newStream(bot.InteractionHandlerFunc(func(context.Context, bot.Interaction) (bot.Reply, error) {
		return bot.Reply{}, errors.New("doctor only")
	}), nil)
	defer cli.Close()
	if _, err := cli.GetConnectionEndpoint(ctx); err != nil {
		return errors.New(c.redact(err.Error()))
	}
	return nil
}

// cardFrameHandler turns card callback frames into interactions. A frame
// is answered with the card update after h returns. DingTalk Stream does
// not redeliver card callbacks (the answer's code is diagnostic only), so
// every frame gets a success answer: when h fails (storage unavailable)
// the answer is a private "tap again" toast with no change to the card,
// and the tap is counted as a storage error.
func (c *Client) cardFrameHandler(h bot.InteractionHandler) handler.IFrameHandler {
	return func(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		tap, err := parseCardCallback([]byte(df.Data))
		if err != nil {
			// Redelivering a malformed frame cannot help: acknowledge it.
			c.log.Warn("dingtalk card callback dropped", "message_id", df.GetMessageId(), "err", err)
			return frameAnswer(&scard.CardResponse{})
		}
		key := df.GetMessageId()
		if key == "" {
			sum := sha256.Sum256([]byte(df.Data))
			key = hex.EncodeToString(sum[:16])
		}
		key = "stream:" + key
		at := c.frameTime(df)
		res, shared, err := c.seen.Do(ctx, key, func() (tapResult, error) {
			// A custom template takes the new variables in the answer; a
			// StandardCard is replaced through its update API.
			return c.handleTap(ctx, h, tap, key, at, !c.standard())
		})
		if err != nil {
			// DingTalk does not redeliver card callbacks: an error answer
			// loses the tap. Ask the person to tap again instead, leave
			// the card as it is (its buttons and tokens stay), and count it.
			c.log.Warn("dingtalk card tap not stored; asked the user to tap again", "message_id", df.GetMessageId(),
				"action", tap.Action, "err", err)
			kit.CountStorageError(h, bot.PlatformDingTalk, tap.Action)
			return frameAnswer(retryResponse(tap.Locale))
		}
		if shared {
			c.log.Debug("dingtalk card callback redelivered; answered from the first run", "message_id", df.GetMessageId())
		}
		resp := &scard.CardResponse{
			CardUpdateOptions: &scard.CardUpdateOptions{UpdateCardDataByKey: true, UpdatePrivateDataByKey: true},
			UserPrivateData:   &scard.CardDataDto{CardParamMap: res.Private},
		}
		if res.Public != nil {
			resp.CardData = &scard.CardDataDto{CardParamMap: res.Public}
		}
		return frameAnswer(resp)
	}
}

// retryResponse is the answer to a tap that could not be stored: only the
// tapper's private toast changes; the public data, the buttons and their
// tokens stay, so the card can be tapped again.
func retryResponse(locale text.Locale) *scard.CardResponse {
	return &scard.CardResponse{
		CardUpdateOptions: &scard.CardUpdateOptions{UpdateCardDataByKey: true, UpdatePrivateDataByKey: true},
		UserPrivateData:   &scard.CardDataDto{CardParamMap: map[string]string{"toast": retryToast(locale)}},
	}
}

// frameAnswer is the acknowledgement of a card callback frame: success,
// with {"response": r} as its data.
func frameAnswer(r *scard.CardResponse) (*payload.DataFrameResponse, error) {
	resp := payload.NewSuccessDataFrameResponse()
	resp.SetData(string(appendCardResponse(make([]byte, 0, 2048), r)))
	return resp, nil
}

// appendCardResponse appends {"response": r} as encoding/json writes it
// (the same keys, null for what is nil, a map's keys in sorted order), but
// without its HTML escaping of <, > and & (kit.AppendJSONString: the same
// JSON value),
// without reflecting over the struct and its two maps of some twenty
// variables each: this is the answer to every tap.
func appendCardResponse(b []byte, r *scard.CardResponse) []byte {
	b = append(b, `{"response":`...)
	if r == nil {
		return append(b, "null}"...)
	}
	b = append(b, `{"cardUpdateOptions":`...)
	if o := r.CardUpdateOptions; o != nil {
		b = append(b, `{"updateCardDataByKey":`...)
		b = strconv.AppendBool(b, o.UpdateCardDataByKey)
		b = append(b, `,"updatePrivateDataByKey":`...)
		b = strconv.AppendBool(b, o.UpdatePrivateDataByKey)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = appendCardData(append(b, `,"cardData":`...), r.CardData, PublicVars)
	b = appendCardData(append(b, `,"userPrivateData":`...), r.UserPrivateData, PrivateVars)
	return append(b, "}}"...)
}

// appendCardData appends d's variables: those named in order first, in
// that order, then any others sorted (the output is the same for the same
// variables; sorting all of them cost more than the rest of the answer).
func appendCardData(b []byte, d *scard.CardDataDto, order []string) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"cardParamMap":`...)
	m := d.CardParamMap
	if m == nil {
		return append(b, "null}"...)
	}
	b = append(b, '{')
	n := 0
	add := func(k, v string) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = kit.AppendJSONString(b, k)
		b = kit.AppendJSONString(append(b, ':'), v)
	}
	for _, k := range order {
		if v, ok := m[k]; ok {
			add(k, v)
		}
	}
	if n < len(m) {
		var rest []string
		for k := range m {
			if !slices.Contains(order, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			add(k, m[k])
		}
	}
	return append(b, "}}"...)
}

// frameTime is when the gateway says the tap happened, or now when the
// frame's time is missing or implausible.
func (c *Client) frameTime(df *payload.DataFrame) time.Time {
	now := c.nowUTC()
	ms := df.GetTimestamp()
	if ms <= 0 {
		ms = df.Time
	}
	if ms <= 0 {
		return now
	}
	t := time.UnixMilli(ms).UTC()
	if t.After(now) || now.Sub(t) > 24*time.Hour {
		return now
	}
	return t
}
