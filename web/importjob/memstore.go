package importjob

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"
)

// MemStore is a Store in memory, for tests and for running the console
// without a database. It is safe for concurrent use.
type MemStore struct {
	mu   sync.Mutex
	jobs map[string]*memJob
	now  func() time.Time
	// FailWrites, when set, makes UpdateRows fail (to test store errors).
	FailWrites error
}

type memJob struct {
	job        Job
	rows       map[int]Row
	nums       []int // sorted
	leaseOwner string
	leaseUntil time.Time
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{jobs: map[string]*memJob{}, now: time.Now} }

// SetClock makes the store stamp changes with now (default time.Now).
func (s *MemStore) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// CreateJob implements Store.
func (s *MemStore) CreateJob(_ context.Context, j Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[j.ID] = &memJob{job: cloneJob(j), rows: map[int]Row{}}
	return nil
}

// DeleteJob implements Store.
func (s *MemStore) DeleteJob(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.jobs, id)
	return nil
}

// Job implements Store.
func (s *MemStore) Job(_ context.Context, id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mj, ok := s.jobs[id]
	if !ok {
		return Job{}, ErrNotFound
	}
	return cloneJob(mj.job), nil
}

// Jobs implements Store.
func (s *MemStore) Jobs(_ context.Context, limit int) ([]Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Job
	for _, mj := range s.jobs {
		out = append(out, cloneJob(mj.job))
	}
	sort.Slice(out, func(i, k int) bool { return out[i].CreatedAt.After(out[k].CreatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SaveJob implements Store.
func (s *MemStore) SaveJob(_ context.Context, j Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked(j)
}

func (s *MemStore) saveLocked(j Job) error {
	mj, ok := s.jobs[j.ID]
	if !ok {
		return ErrNotFound
	}
	state := mj.job.State
	mj.job = cloneJob(j)
	mj.job.State = state
	mj.job.UpdatedAt = s.now()
	return nil
}

// SetState implements Store.
func (s *MemStore) SetState(_ context.Context, id string, from []State, to State) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mj, ok := s.jobs[id]
	if !ok {
		return Job{}, ErrNotFound
	}
	if !slices.Contains(from, mj.job.State) {
		return cloneJob(mj.job), ErrStateChanged
	}
	mj.job.State = to
	mj.job.UpdatedAt = s.now()
	return cloneJob(mj.job), nil
}

// AddRows implements Store.
func (s *MemStore) AddRows(_ context.Context, jobID string, rows []Row) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mj, ok := s.jobs[jobID]
	if !ok {
		return ErrNotFound
	}
	for _, r := range rows {
		if _, exists := mj.rows[r.Num]; !exists {
			mj.nums = append(mj.nums, r.Num)
		}
		mj.rows[r.Num] = r
	}
	slices.Sort(mj.nums)
	return nil
}

// Rows implements Store.
func (s *MemStore) Rows(_ context.Context, jobID string, q RowQuery) ([]Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mj, ok := s.jobs[jobID]
	if !ok {
		return nil, ErrNotFound
	}
	i, _ := slices.BinarySearch(mj.nums, q.After+1)
	var out []Row
	for ; i < len(mj.nums); i++ {
		r := mj.rows[mj.nums[i]]
		if !MatchRow(q.Filter, r) {
			continue
		}
		out = append(out, r)
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}

// MatchRow reports whether r passes a RowQuery filter (for Store
// implementations).
func MatchRow(filter int, r Row) bool {
	switch filter {
	case RowsPending:
		return r.Problem == "" && r.Outcome == OutcomePending && r.Batch == 0
	case RowsInFlight:
		return r.Problem == "" && r.Outcome == OutcomePending && r.Batch > 0
	case RowsProblems:
		return r.Problem != ""
	case RowsAttrsPending:
		return r.AttrsPending
	case RowsCheckable:
		return r.Problem == ""
	}
	return true
}

// UpdateRows implements Store.
func (s *MemStore) UpdateRows(_ context.Context, jobID string, rows []Row, j *Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.FailWrites != nil {
		return s.FailWrites
	}
	mj, ok := s.jobs[jobID]
	if !ok {
		return ErrNotFound
	}
	for _, r := range rows {
		if _, exists := mj.rows[r.Num]; !exists {
			return ErrNotFound
		}
		mj.rows[r.Num] = r
	}
	if j != nil {
		return s.saveLocked(*j)
	}
	return nil
}

// Claim implements Store.
func (s *MemStore) Claim(_ context.Context, owner string, states []State, ttl time.Duration) (Job, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var best *memJob
	for _, mj := range s.jobs {
		if !slices.Contains(states, mj.job.State) {
			continue
		}
		if mj.leaseOwner != "" && mj.leaseOwner != owner && now.Before(mj.leaseUntil) {
			continue
		}
		if best == nil || mj.job.CreatedAt.Before(best.job.CreatedAt) {
			best = mj
		}
	}
	if best == nil {
		return Job{}, false, nil
	}
	best.leaseOwner, best.leaseUntil = owner, now.Add(ttl)
	return cloneJob(best.job), true, nil
}

// Renew implements Store.
func (s *MemStore) Renew(_ context.Context, id, owner string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mj, ok := s.jobs[id]
	if !ok || mj.leaseOwner != owner {
		return false, nil
	}
	mj.leaseUntil = s.now().Add(ttl)
	return true, nil
}

// Release implements Store.
func (s *MemStore) Release(_ context.Context, id, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mj, ok := s.jobs[id]; ok && mj.leaseOwner == owner {
		mj.leaseOwner, mj.leaseUntil = "", time.Time{}
	}
	return nil
}

// ClearPayloads implements Store.
func (s *MemStore) ClearPayloads(_ context.Context, jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mj, ok := s.jobs[jobID]
	if !ok {
		return ErrNotFound
	}
	for n, r := range mj.rows {
		if r.Problem != "" {
			continue // a problem row keeps its original cells until retention
		}
		r.Item = Item{}
		mj.rows[n] = r
	}
	return nil
}

// PurgeJobs implements Store.
func (s *MemStore) PurgeJobs(_ context.Context, states []State, changedBefore time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, mj := range s.jobs {
		if slices.Contains(states, mj.job.State) && mj.job.UpdatedAt.Before(changedBefore) {
			delete(s.jobs, id)
			n++
		}
	}
	return n, nil
}

// ScrubImportRows blanks the rows that hold any of values (see Scrub) and
// drops the dry-run previews of rows that do (ScrubPreview), and reports
// how many rows and previews it changed.
func (s *MemStore) ScrubImportRows(_ context.Context, values []string) (int, error) {
	ns := NeedlesFor(values)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, mj := range s.jobs {
		n += ScrubPreview(&mj.job, ns)
		for num, r := range mj.rows {
			if ns.Mentioned(r) {
				Scrub(&r)
				mj.rows[num] = r
				n++
			}
		}
	}
	return n, nil
}

func cloneJob(j Job) Job {
	j.Columns = slices.Clone(j.Columns)
	j.Unknown = slices.Clone(j.Unknown)
	j.Ignored = slices.Clone(j.Ignored)
	j.Preview = slices.Clone(j.Preview)
	j.AttrNames = maps.Clone(j.AttrNames)
	if j.Problems != nil {
		p := make(map[string]int, len(j.Problems))
		for k, v := range j.Problems {
			p[k] = v
		}
		j.Problems = p
	}
	return j
}
