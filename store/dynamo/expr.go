package dynamo

import (
	"errors"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Expressions name every attribute through a placeholder "#" + its name, so
// reserved words (status, rule, channel) need no special care; names derives
// the ExpressionAttributeNames an expression uses, since DynamoDB rejects
// unused ones.
var placeholder = regexp.MustCompile(`#[A-Za-z0-9_]+`)

// names maps each "#attr" placeholder in exprs to attr.
func names(exprs ...string) map[string]string {
	m := map[string]string{}
	for _, e := range exprs {
		for _, p := range placeholder.FindAllString(e, -1) {
			m[p] = p[1:]
		}
	}
	return m
}

// conditionFailed returns the item a failed conditional write reported
// (nil when it reported none) and whether err is such a failure.
func conditionFailed(err error) (item, bool) {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, false
	}
	return ccf.Item, true
}
