// Package kit is what every platform adapter shares: callback
// de-duplication (Dedup), the access-token cache that drops a token the
// platform refused (TokenCache, WithToken), redaction of secrets and tokens
// from URLs, errors and logs (Redactor), bounded calls into SDKs that take no
// context (Bounded), the pacers' sleep, cooldown and shared-wait limit
// (Sleep, Cooldown, Hold, MaxWait), and the one-way tap helper (CountUpdate). Package
// kittest is the conformance suite every adapter runs against its fake.
//
// The kit knows no platform: each adapter keeps its own wire formats,
// errcodes and crypto, and hides its SDK's friction (process globals, error
// texts that carry tokens, calls without a context) behind itself and the
// kit, so that nothing outside the adapter sees it.
package kit

import "github.com/learnloop/learnloop/bot"

// CountUpdate reports to h, when it counts card updates (the bot.Router
// does), that an adapter applied a tap's Reply card on platform p: err is
// nil when the platform took the new card.
func CountUpdate(h bot.InteractionHandler, p bot.Platform, err error) {
	if uc, ok := h.(bot.CardUpdateCounter); ok {
		uc.CardUpdated(p, err)
	}
}

// CountStorageError reports to h, when it counts them (the bot.Router
// does), a tap on platform p that could not be stored on a path the
// platform never redelivers.
func CountStorageError(h bot.InteractionHandler, p bot.Platform, action string) {
	if sc, ok := h.(bot.StorageErrorCounter); ok {
		sc.CallbackStorageError(p, action)
	}
}
