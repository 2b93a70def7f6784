package erasure_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/erasure"
)

// lanes counts the calls made to Dixa and those not made in the
// low-priority lane. A context in that lane prints the lane's mark (the
// mark is taken from the client's own WithLowPriority).
type lanes struct {
	erasure.Dixa
	mark string

	mu                 sync.Mutex
	calls, interactive int
}

func newLanes(d erasure.Dixa) *lanes {
	mark := strings.TrimPrefix(fmt.Sprint(apiclient.WithLowPriority(context.Background())), fmt.Sprint(context.Background()))
	return &lanes{Dixa: d, mark: mark}
}

func (l *lanes) note(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if !strings.Contains(fmt.Sprint(ctx), l.mark) {
		l.interactive++
	}
}

func (l *lanes) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls, l.interactive
}

func (l *lanes) GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error) {
	l.note(ctx)
	return l.Dixa.GetEndUser(ctx, id)
}

func (l *lanes) ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error) {
	l.note(ctx)
	return l.Dixa.ListEndUsers(ctx, o)
}

func (l *lanes) ListEndUserConversations(ctx context.Context, id string, o apiclient.PageOptions) (apiclient.Page[apiclient.Conversation], error) {
	l.note(ctx)
	return l.Dixa.ListEndUserConversations(ctx, id, o)
}

// TestPreviewLowLaneCachedAndCounted: a preview's look-ups run in the
// low-priority lane, each is taken from the person's request budget, and
// the preview is cached while the form is open: shown again within 15
// minutes it costs no call; after that it is looked up afresh.
func TestPreviewLowLaneCachedAndCounted(t *testing.T) {
	f := newFixture(t, time.Minute)
	l := newLanes(f.api)
	f.svc.Dixa = l
	var mu sync.Mutex
	spent := 0
	f.svc.Spend = func(_ context.Context, n int) error {
		mu.Lock()
		defer mu.Unlock()
		spent += n
		return nil
	}
	p, err := f.svc.Preview(t.Context(), dixasim.DemoBusyUserID)
	if err != nil {
		t.Fatal(err)
	}
	calls, interactive := l.counts()
	if calls < 3 || len(p.Conversations) == 0 || len(p.Duplicates) == 0 && p.DuplicatesErr != nil {
		t.Fatalf("preview made %d calls, %d conversations: %+v", calls, len(p.Conversations), p.DuplicatesErr)
	}
	if interactive != 0 {
		t.Errorf("%d of %d preview calls in the interactive lane", interactive, calls)
	}
	if spent != calls {
		t.Errorf("spent %d from the person's budget for %d calls", spent, calls)
	}

	f.clock.Advance(14 * time.Minute)
	if _, err := f.svc.Preview(t.Context(), dixasim.DemoBusyUserID); err != nil {
		t.Fatal(err)
	}
	if again, _ := l.counts(); again != calls || spent != calls {
		t.Errorf("the preview shown again made %d calls and spent %d, want none", again-calls, spent-calls)
	}

	f.clock.Advance(2 * time.Minute)
	if _, err := f.svc.Preview(t.Context(), dixasim.DemoBusyUserID); err != nil {
		t.Fatal(err)
	}
	if later, _ := l.counts(); later != 2*calls {
		t.Errorf("after 16 minutes the preview made %d calls, want %d afresh", later-calls, calls)
	}
}

// TestPreviewRefusedBudget: when the person's budget refuses, the preview
// fails with that refusal before any call to Dixa.
func TestPreviewRefusedBudget(t *testing.T) {
	f := newFixture(t, time.Minute)
	l := newLanes(f.api)
	f.svc.Dixa = l
	refused := errors.New("too many requests")
	f.svc.Spend = func(context.Context, int) error { return refused }
	if _, err := f.svc.Preview(t.Context(), dixasim.DemoBusyUserID); !errors.Is(err, refused) {
		t.Fatalf("Preview = %v, want the refusal", err)
	}
	if calls, _ := l.counts(); calls != 0 {
		t.Errorf("%d calls to Dixa despite the refusal", calls)
	}
}
