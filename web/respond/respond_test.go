package respond

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// Dixa's budget used up and the console's database not answering are both
// 503s with Retry-After, but they say different things: only the first is
// about Dixa.
func TestClassifyBudgetErrors(t *testing.T) {
	lim := apiclient.NewSharedLimiter(downBucket{})
	down := lim.Wait(context.Background())
	if !errors.Is(down, apiclient.ErrBudgetUnknown) {
		t.Fatalf("a limiter whose database is down answered %v", down)
	}
	busy := apiclient.NewLimiter(1, 1)
	busy.BlockUntil(time.Now().Add(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	spent := busy.Wait(ctx)
	for _, tt := range []struct {
		name  string
		err   error
		title string
	}{
		{"database down", down, "The console cannot reach its database"},
		{"budget spent", spent, "Dixa is busy"},
	} {
		e := Classify(tt.err)
		if e.Status != http.StatusServiceUnavailable || e.RetryAfter <= 0 || e.Title != tt.title {
			t.Errorf("%s: %d %q (Retry-After %v); want 503 %q with Retry-After", tt.name, e.Status, e.Title, e.RetryAfter, tt.title)
		}
	}
	if strings.Contains(Classify(down).Message, "budget is used up") {
		t.Error("the database being down is reported as Dixa's budget being used up")
	}
}

type downBucket struct{}

func (downBucket) Reserve(context.Context, bool, time.Duration) (time.Duration, bool, error) {
	return 0, false, errors.New("connection refused")
}
func (downBucket) Block(context.Context, time.Duration) error {
	return errors.New("connection refused")
}
func (downBucket) Interval() time.Duration { return 100 * time.Millisecond }
