package web

import (
	"context"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
)

// variantJSON is one A/B variant of a touchpoint as the API shows it.
type variantJSON struct {
	ID              uint64           `json:"id"`
	Name            string           `json:"name"`
	Weight          int              `json:"weight"`
	Title           string           `json:"title,omitempty"`
	Body            string           `json:"body,omitempty"`
	Button          string           `json:"button,omitempty"`
	Timing          string           `json:"timing"`
	OffsetMinutes   *int64           `json:"offset_minutes,omitempty"`
	BestFromMinutes *int64           `json:"best_from_minutes,omitempty"`
	BestToMinutes   *int64           `json:"best_to_minutes,omitempty"`
	RunAt           *time.Time       `json:"run_at,omitempty"`
	SendTime        *sendtime.Choice `json:"send_time,omitempty"`
	Assigned        int              `json:"assigned"`
}

// variantInput is one variant of a touchpoint create or change.
type variantInput struct {
	Title    string `json:"title"`
	Body     string `json:"body"`
	Button   string `json:"button"`
	Weight   int    `json:"weight"`
	Timing   string `json:"timing"`
	Offset   *int64 `json:"offset_minutes"`
	BestFrom *int64 `json:"best_from_minutes"`
	BestTo   *int64 `json:"best_to_minutes"`
}

func variantInputs(in *[]variantInput) *[]command.VariantInput {
	if in == nil {
		return nil
	}
	out := make([]command.VariantInput, len(*in))
	for i, v := range *in {
		out[i] = command.VariantInput{Title: v.Title, Body: v.Body, Button: v.Button, Weight: v.Weight, Timing: v.Timing,
			OffsetMinutes: v.Offset, BestFromMinutes: v.BestFrom, BestToMinutes: v.BestTo}
	}
	return &out
}

func minutesOf(secs *int64) *int64 {
	if secs == nil {
		return nil
	}
	m := *secs / 60
	return &m
}

// withVariants fills the variants of the touchpoints of tps that have any.
func (s *Server) withVariants(ctx context.Context, tps []touchpointJSON) error {
	var ids []uint64
	at := map[uint64]int{}
	for i, t := range tps {
		if t.variants > 0 {
			ids = append(ids, t.ID)
			at[t.ID] = i
		}
	}
	if len(ids) == 0 {
		return nil
	}
	vs, err := s.commands().VariantsOf(ctx, ids)
	if err != nil {
		return err
	}
	for _, v := range vs {
		j := variantJSON{ID: v.ID, Name: v.Name, Weight: v.Weight, Title: v.Title, Body: v.Body, Button: v.Button, Timing: v.Timing,
			OffsetMinutes: minutesOf(v.Offset), BestFromMinutes: minutesOf(v.BestFrom), BestToMinutes: minutesOf(v.BestTo), RunAt: v.RunAt, Assigned: v.Assigned}
		if ch, err := sendtime.ParseBasis(v.SendBasis); v.SendBasis != "" && err == nil {
			j.SendTime = &ch
		}
		i := at[v.TouchpointID]
		tps[i].Variants = append(tps[i].Variants, j)
	}
	return nil
}

// variantFireJSON is one variant's next fire in a touchpoint's preview.
type variantFireJSON struct {
	Name     string           `json:"name"`
	Timing   string           `json:"timing"`
	At       time.Time        `json:"at"`
	Local    string           `json:"local"`
	SendTime *sendtime.Choice `json:"send_time,omitempty"`
	Basis    string           `json:"send_time_basis,omitempty"`
}

// variantFires previews each variant of tp: when it would fire now.
func (s *Server) variantFires(ctx context.Context, tp store.Touchpoint, ss store.Session) ([]variantFireJSON, error) {
	views, err := s.commands().VariantsOf(ctx, []uint64{tp.ID})
	if err != nil {
		return nil, err
	}
	vs := make([]store.TouchpointVariant, len(views))
	for i, v := range views {
		vs[i] = v.TouchpointVariant
	}
	fires, err := s.Planner.VariantFires(ctx, tp, ss, vs)
	if err != nil {
		return nil, err
	}
	loc := bot.SessionLocation(ss)
	out := make([]variantFireJSON, len(fires))
	for i, f := range fires {
		out[i] = variantFireJSON{Name: f.Variant.Name, Timing: f.Variant.Timing, At: f.Fire.At, Local: localTime(f.Fire.At, loc),
			SendTime: f.Fire.SendTime, Basis: basisOf(f.Fire.SendTime)}
	}
	return out, nil
}
