package arc

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// TimestampLayout is how ARC writes timestamps: UTC with microseconds, "2025-12-14T13:30:00.123456Z".
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

// Timestamp formats t as an ARC timestamp.
func Timestamp(t time.Time) string {
	return t.UTC().Format(TimestampLayout)
}

// ParseTimestamp reads an ISO-8601 / RFC 3339 timestamp, keeping digits below the millisecond.
func ParseTimestamp(text string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		// RFC 3339 allows lowercase t and z.
		if t, err = time.Parse(time.RFC3339Nano, strings.ToUpper(text)); err != nil {
			return time.Time{}, false
		}
	}
	return t, true
}

// NewTraceID returns a W3C trace id: 32 lowercase hex characters, never all zeros.
func NewTraceID() string {
	var id [16]byte
	for {
		_, _ = rand.Read(id[:])
		if id != [16]byte{} {
			return hex.EncodeToString(id[:])
		}
	}
}
