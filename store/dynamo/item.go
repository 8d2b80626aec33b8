package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hubtriage/store"
)

// Key attributes of the single-table layout (see doc.go), exported for
// the tools that create the table.
const (
	AttrPK = "PK" // partition key, a string
	AttrSK = "SK" // sort key, a string
	// AttrTTL is the table's TTL attribute: epoch seconds, rounded up.
	AttrTTL = "expires_at"
)

// Key prefixes of the single-table layout (see doc.go).
const (
	dedupPrefix = "dedup#"
	dedupSort   = "record"
	indexPrefix = "idx#"
)

// Dedup record attributes.
const (
	attrStatus        = "status"
	attrMeta          = "meta" // map: finding_id, product_arn, rule, channel
	attrFirstNotified = "first_notified_at"
	attrLastNotified  = "last_notified_at"
	attrResolved      = "resolved_at"
	attrNotifications = "notifications"

	// attrClaim is the claim held on the key, a map of claimToken,
	// claimExpires and claimMeta (the meta given to Claim, which Confirm
	// moves to meta). One attribute, so Release and Confirm drop it whole.
	attrClaim    = "claim"
	claimToken   = "token"
	claimExpires = "expires_at" // epoch nanoseconds: the lease's end
	claimMeta    = "meta"
)

// Keys of the meta maps.
const (
	metaFindingID  = "finding_id"
	metaProductArn = "product_arn"
	metaRule       = "rule"
	metaChannel    = "channel"
)

// Index entry attributes.
const (
	attrValue = "val"
	// attrExpiresNs is the exact expiry the contract is judged by.
	attrExpiresNs = "expires_at_ns"
)

// item is one raw DynamoDB item.
type item = map[string]types.AttributeValue

// dedupKey is the primary key of key's dedup record.
func dedupKey(key string) item {
	return item{AttrPK: str(dedupPrefix + key), AttrSK: str(dedupSort)}
}

// indexKey is the primary key of an index entry.
func indexKey(partition, sort string) item {
	return item{AttrPK: str(indexPrefix + partition), AttrSK: str(sort)}
}

// str is a string attribute value.
func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// num is a number attribute value.
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// nanos encodes t as epoch nanoseconds, the unit of every dedup timestamp.
func nanos(t time.Time) types.AttributeValue { return num(t.UnixNano()) }

// getS returns string attribute name of it, "" when absent.
func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// getN returns number attribute name of it and whether it is present.
func getN(it item, name string) (int64, bool, error) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, true, nil
}

// getTime returns the epoch-nanosecond attribute name of it in UTC, zero
// when absent.
func getTime(it item, name string) (time.Time, error) {
	n, ok, err := getN(it, name)
	if err != nil || !ok {
		return time.Time{}, err
	}
	return time.Unix(0, n).UTC(), nil
}

// recordState is a dedup item decoded: the record, if any, and the
// claim held on it, if any.
type recordState struct {
	rec          store.Record
	recorded     bool // a status is set: the key has a record
	token        string
	claimExpires time.Time
}

// decodeRecord decodes a dedup item of key; a nil item is a missing key.
func decodeRecord(key string, it item) (recordState, error) {
	st := recordState{rec: store.Record{Key: key}}
	if it == nil {
		return st, nil
	}
	var err error
	if claim, ok := it[attrClaim].(*types.AttributeValueMemberM); ok {
		st.token = getS(claim.Value, claimToken)
		st.claimExpires, err = getTime(claim.Value, claimExpires)
	}
	if err != nil {
		return st, fmt.Errorf("dedup record %q: %w", key, err)
	}
	status := getS(it, attrStatus)
	if status == "" {
		return st, nil
	}
	st.recorded = true
	if err := decodeRecorded(&st.rec, it); err != nil {
		return st, fmt.Errorf("dedup record %q: %w", key, err)
	}
	return st, nil
}

// decodeRecorded fills the record fields of r from it.
func decodeRecorded(r *store.Record, it item) error {
	r.Status = store.Status(getS(it, attrStatus))
	r.Meta = decodeMeta(it[attrMeta])
	var err error
	if r.FirstNotifiedAt, err = getTime(it, attrFirstNotified); err != nil {
		return err
	}
	if r.LastNotifiedAt, err = getTime(it, attrLastNotified); err != nil {
		return err
	}
	if r.ResolvedAt, err = getTime(it, attrResolved); err != nil {
		return err
	}
	n, _, err := getN(it, attrNotifications)
	r.Notifications = int(n)
	return err
}

// encodeMeta is m as a map attribute; empty fields are stored as empty
// strings, which DynamoDB allows outside keys.
func encodeMeta(m store.Meta) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: item{
		metaFindingID:  str(m.FindingID),
		metaProductArn: str(m.ProductArn),
		metaRule:       str(m.Rule),
		metaChannel:    str(m.Channel),
	}}
}

// decodeMeta decodes a map attribute made by encodeMeta; anything else
// decodes as empty meta.
func decodeMeta(v types.AttributeValue) store.Meta {
	m, _ := v.(*types.AttributeValueMemberM)
	if m == nil {
		return store.Meta{}
	}
	return store.Meta{
		FindingID:  getS(m.Value, metaFindingID),
		ProductArn: getS(m.Value, metaProductArn),
		Rule:       getS(m.Value, metaRule),
		Channel:    getS(m.Value, metaChannel),
	}
}

// claimedAt reports whether st holds a claim unexpired at now.
func (st recordState) claimedAt(now time.Time) bool {
	return st.token != "" && st.claimExpires.After(now)
}

// kind is the claim kind st's record grants, by store.Decide (a
// zero window refuses nothing).
func (st recordState) kind() store.Kind {
	k, _ := store.Decide(st.rec, false, st.rec.LastNotifiedAt, 0)
	return k
}

// encodeEntry is the item storing e. An empty value is stored as no val
// attribute: DynamoDB-compatible servers disagree on empty binaries.
func encodeEntry(e store.Entry) item {
	it := indexKey(e.Partition, e.Sort)
	if len(e.Value) > 0 {
		it[attrValue] = &types.AttributeValueMemberB{Value: e.Value}
	}
	if !e.ExpiresAt.IsZero() {
		it[attrExpiresNs] = nanos(e.ExpiresAt)
		it[AttrTTL] = num(ttlSeconds(e.ExpiresAt))
	}
	return it
}

// ttlSeconds rounds t up to whole epoch seconds, so that DynamoDB's TTL
// never deletes an entry before it has expired.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// decodeEntry decodes the index item it of partition.
func decodeEntry(partition string, it item) (store.Entry, error) {
	e := store.Entry{Partition: partition, Sort: getS(it, AttrSK)}
	if v, ok := it[attrValue].(*types.AttributeValueMemberB); ok {
		e.Value = v.Value
	}
	var err error
	if e.ExpiresAt, err = getTime(it, attrExpiresNs); err != nil {
		return e, fmt.Errorf("index entry %q/%q: %w", partition, e.Sort, err)
	}
	return e, nil
}
