package graph

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/vikstrous/dataloadgen"

	"healthcare/graph/model"
)

// The GraphQL types that implement Node, as nodeIds name them.
const (
	nodeUser       = "User"
	nodePatient    = "Patient"
	nodeDoctor     = "Doctor"
	nodeMapping    = "Mapping"
	nodeAuditEvent = "AuditEvent"
)

// nodeID is the global id of the row id of a GraphQL type: "Type:id" in
// unpadded base64url (PostGraphile's shape). Clients treat it as opaque.
func nodeID(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

// parseNodeID reads a nodeID: the type's name and a positive row id.
// Anything else (padding aside) names no object.
func parseNodeID(s string) (typ string, id int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return "", 0, false
	}
	typ, num, found := strings.Cut(string(b), ":")
	if !found || typ == "" {
		return "", 0, false
	}
	id, ok = parseID(num)
	return typ, id, ok && id > 0
}

// loaded turns a loader's answer into a Node: a record the viewer may not
// see (the loader found nothing) is null, never a typed nil.
func loaded[T any](v *T, err error) (model.Node, error) {
	if errors.Is(err, dataloadgen.ErrNotFound) || err == nil && v == nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}
