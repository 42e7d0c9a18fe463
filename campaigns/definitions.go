package campaigns

import (
	"encoding/json"
	"time"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Definition is one figure's meaning: its key and its text (the
// catalogue's campaigns:definition.<key>, with the campaign's settings).
// Its JSON gives the text in both languages: {key, zh, en}.
type Definition struct {
	Key     string
	Meaning text.Message
}

// MarshalJSON gives the definition as the API documents it.
func (d Definition) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key string `json:"key"`
		ZH  string `json:"zh"`
		EN  string `json:"en"`
	}{d.Key, d.Meaning.In(text.ZH), d.Meaning.In(text.EN)})
}

func define(key string, args ...any) Definition {
	return Definition{Key: key, Meaning: text.M("campaigns:definition."+key, args...)}
}

// definitions are the meanings of a campaign report's figures, in report
// order.
func definitions(window time.Duration, c store.Campaign) []Definition {
	return []Definition{
		define("deliveries"),
		define("delivered"),
		define("clickers"),
		define("converted", c.Event, window.Hours()),
		define("click_through"),
		define("conversion_rate"),
		define("click_to_conversion"),
		define("departments", c.MinGroupSize),
		define("platforms"),
		define("hours", c.TimeZone),
		define("via_push_share", c.Event),
		define("experiment", c.MinSample),
		SendTimeDefinition(),
	}
}

// SendTimeDefinition is the meaning of a learned send time (in every
// campaign report and beside an estimate).
func SendTimeDefinition() Definition {
	return define("send_time", int(SendTimeLookback/(24*time.Hour)), int(OpenWithin/time.Minute), DefaultMinPerHour)
}
