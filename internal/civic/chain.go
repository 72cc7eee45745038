package civic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Head is a community's chain head: what the notice board shows and a
// later check compares with.
type Head struct {
	Community string `json:"community"`
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
}

// Short is the head's hash in groups of four, easy to read out and
// compare on paper.
func (h Head) Short() string {
	if len(h.Hash) < 16 {
		return h.Hash
	}
	return h.Hash[0:4] + " " + h.Hash[4:8] + " " + h.Hash[8:12] + " " + h.Hash[12:16]
}

// canonical is the version's content as hashed. Fields are
// length-prefixed so that no two different versions encode alike; the
// attachments enter through their sha256 digests (in the JSON list).
func (v *Version) canonical() []string {
	return []string{
		v.PrevHash, v.Community, strconv.FormatInt(v.Seq, 10), strconv.FormatInt(v.NoticeNo, 10),
		strconv.Itoa(v.Version), v.Category, v.Title, v.Body, v.PeriodFrom, v.PeriodTo,
		strconv.FormatInt(v.TopicID, 10), v.recipientsJSON, v.attachmentsJSON, v.Reason, v.Publisher,
		v.PublishedAt.UTC().Format(time.RFC3339Nano),
	}
}

func (v *Version) computeHash() string {
	h := sha256.New()
	for _, f := range v.canonical() {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// nextLink takes the next seq of the community's chain and its previous
// hash. The UPDATE locks the head row until commit, which orders the
// chain across concurrent transactions on PostgreSQL (SQLite has one
// writer anyway).
func (s *Service) nextLink(ctx context.Context, areaID int64) (seq int64, prev string, err error) {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, "INSERT INTO civic_chain_heads (area_id, seq, hash) VALUES ($1, 0, '') ON CONFLICT (area_id) DO NOTHING", areaID); err != nil {
		return 0, "", err
	}
	err = q.QueryRowContext(ctx, "UPDATE civic_chain_heads SET seq = seq + 1 WHERE area_id = $1 RETURNING seq, hash", areaID).Scan(&seq, &prev)
	return seq, prev, err
}

func (s *Service) setHead(ctx context.Context, areaID int64, hash string) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE civic_chain_heads SET hash = $1 WHERE area_id = $2", hash, areaID)
	return err
}

// HeadOf returns a community's chain head (seq 0 before its first notice).
func (s *Service) HeadOf(ctx context.Context, code string) (Head, error) {
	c, err := s.community(ctx, code)
	if err != nil {
		return Head{}, err
	}
	h := Head{Community: c.Code}
	err = s.db.Q(ctx).QueryRowContext(ctx, "SELECT seq, hash FROM civic_chain_heads WHERE area_id = $1", c.ID).Scan(&h.Seq, &h.Hash)
	if err != nil && !isNoRows(err) {
		return Head{}, err
	}
	return h, nil
}

// Break is the first place where a community's chain is not intact.
type Break struct {
	Community string `json:"community"`
	ID        int64  `json:"id,omitempty"` // the failing row; 0 when rows are missing at the end
	Seq       int64  `json:"seq"`
	Reason    string `json:"reason"` // "hash", "link", "gap", "attachment", "truncated"
}

func (b *Break) String() string {
	var s strings.Builder
	s.WriteString("community " + b.Community + ", seq " + strconv.FormatInt(b.Seq, 10))
	if b.ID != 0 {
		s.WriteString(", notice version id " + strconv.FormatInt(b.ID, 10))
	}
	s.WriteString(": " + b.Reason)
	return s.String()
}

// Report is the result of a verification.
type Report struct {
	Versions    int64  `json:"versions"`
	Communities int    `json:"communities"`
	Heads       []Head `json:"heads"`
	Break       *Break `json:"break,omitempty"`
}

// VerifyChain re-computes every community's chain from one snapshot and
// returns the first break (by community, then seq). It needs no login:
// the chains are public.
func (s *Service) VerifyChain(ctx context.Context) (Report, error) {
	return s.verify(ctx, 0)
}

// Check verifies one community's chain, for its public check page.
func (s *Service) Check(ctx context.Context, code string) (Report, error) {
	c, err := s.community(ctx, code)
	if err != nil {
		return Report{}, err
	}
	return s.verify(ctx, c.ID)
}

// verify checks the community areaID, or every community with a head or
// a version when areaID is 0.
func (s *Service) verify(ctx context.Context, areaID int64) (Report, error) {
	var rep Report
	err := s.db.Snapshot(ctx, func(ctx context.Context) error {
		ids, err := s.chainIDs(ctx, areaID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			n, head, brk, err := s.verifyCommunity(ctx, id)
			if err != nil {
				return err
			}
			rep.Versions += n
			rep.Communities++
			rep.Heads = append(rep.Heads, head)
			if brk != nil && rep.Break == nil {
				rep.Break = brk
			}
		}
		return nil
	})
	return rep, err
}

// chainIDs lists the communities that have a chain: a head or any row (a
// head deleted with its rows still there is a break too).
func (s *Service) chainIDs(ctx context.Context, areaID int64) ([]int64, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT area_id FROM civic_chain_heads WHERE $1 = 0 OR area_id = $1
		UNION SELECT area_id FROM civic_notice_versions WHERE $1 = 0 OR area_id = $1 ORDER BY 1`, areaID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Service) verifyCommunity(ctx context.Context, areaID int64) (int64, Head, *Break, error) {
	var head Head
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT seq, hash FROM civic_chain_heads WHERE area_id = $1", areaID).Scan(&head.Seq, &head.Hash)
	if err != nil && !isNoRows(err) {
		return 0, head, nil, err
	}
	versions, err := s.chainVersions(ctx, areaID)
	if err != nil {
		return 0, head, nil, err
	}
	var lastSeq int64
	lastHash := ""
	for _, v := range versions {
		head.Community = v.Community
		if brk := s.checkLink(ctx, v, lastSeq, lastHash); brk != nil {
			return int64(len(versions)), head, brk, nil
		}
		lastSeq, lastHash = v.Seq, v.Hash
	}
	if head.Seq != lastSeq || head.Hash != lastHash {
		return int64(len(versions)), head, &Break{Community: head.Community, Seq: lastSeq + 1, Reason: "truncated"}, nil
	}
	return int64(len(versions)), head, nil, nil
}

// checkLink checks one version against the one before it, and its
// attachments against their digests.
func (s *Service) checkLink(ctx context.Context, v Version, lastSeq int64, lastHash string) *Break {
	brk := &Break{Community: v.Community, ID: v.ID, Seq: v.Seq}
	switch {
	case v.Seq != lastSeq+1:
		brk.Reason = "gap"
	case v.PrevHash != lastHash:
		brk.Reason = "link"
	case v.computeHash() != v.Hash:
		brk.Reason = "hash"
	case !s.attachmentsIntact(ctx, v):
		brk.Reason = "attachment"
	default:
		return nil
	}
	return brk
}

// chainVersions lists a community's versions in chain order.
func (s *Service) chainVersions(ctx context.Context, areaID int64) ([]Version, error) {
	return s.versions(ctx, "WHERE v.area_id = $1 ORDER BY v.seq", areaID)
}
