package bot

import (
	"context"
	"time"
)

// Interaction is a normalized button tap or in-card answer from any platform.
type Interaction struct {
	Platform Platform
	// UserID is the platform user who tapped.
	UserID string
	// Action is the button's action (ActionCheckin, ActionRate, ActionNPS).
	Action string
	// Value is the chosen value (a score); empty for check-in.
	Value string
	// Token is the signed interaction token carried by the button.
	Token string
	// DedupKey identifies this callback for redelivery detection; optional.
	DedupKey string
	// At is when the platform says the tap happened; zero means now.
	At time.Time
	// Source is how the tap arrived (card, link, qr, manual).
	Source string
}

// Reply is what the router tells the adapter to show after an interaction.
// Taps flow one way: the adapter applies the Reply itself (in the callback's
// answer, or with its own update call made with what the callback carried),
// and the router never calls back into the adapter.
type Reply struct {
	// Toast is a short message for the person who tapped.
	Toast string
	// Card is the updated card for the adapter to put in place of the
	// tapped one; nil when nothing changes.
	Card *Message
	// OK is false when the tap was refused (window closed, bad token).
	OK bool
	// Duplicate is true when the interaction had already been recorded.
	Duplicate bool
}

// InteractionHandler reacts to a normalized button tap or answer.
type InteractionHandler interface {
	HandleInteraction(ctx context.Context, in Interaction) (Reply, error)
}

// CardUpdateCounter is implemented by interaction handlers (the Router) that
// count the card updates adapters apply for a Reply: err is nil when the
// platform took the new card (in the callback's answer or through the
// adapter's own update call).
type CardUpdateCounter interface {
	CardUpdated(platform Platform, err error)
}

// InteractionHandlerFunc adapts a function to InteractionHandler.
type InteractionHandlerFunc func(ctx context.Context, in Interaction) (Reply, error)

// HandleInteraction implements InteractionHandler.
func (f InteractionHandlerFunc) HandleInteraction(ctx context.Context, in Interaction) (Reply, error) {
	return f(ctx, in)
}
