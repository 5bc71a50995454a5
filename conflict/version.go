package conflict

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadVersion is returned when decoding a malformed version.
var ErrBadVersion = errors.New("conflict: malformed version")

// Version identifies one write of one item: when it happened on the hybrid
// logical clock of the region that made it, and which region that was.
type Version struct {
	// Wall is the physical part of the hybrid timestamp, in Unix nanoseconds.
	Wall int64
	// Logical orders versions minted within the same Wall value, and versions
	// minted after observing a remote version whose Wall was ahead of ours.
	Logical uint32
	// Region is the name of the region that made the write.
	Region string
}

// IsZero reports whether v is the zero version, which precedes every real one.
func (v Version) IsZero() bool {
	return v.Wall == 0 && v.Logical == 0 && v.Region == ""
}

// Compare returns -1, 0 or +1 as v orders before, equal to or after o.
func (v Version) Compare(o Version) int {
	switch {
	case v.Wall < o.Wall:
		return -1
	case v.Wall > o.Wall:
		return 1
	case v.Logical < o.Logical:
		return -1
	case v.Logical > o.Logical:
		return 1
	}
	return strings.Compare(v.Region, o.Region)
}

// Less reports whether v orders strictly before o.
func (v Version) Less(o Version) bool { return v.Compare(o) < 0 }

// Time returns the physical part of v as a time.Time.
func (v Version) Time() time.Time { return time.Unix(0, v.Wall) }

// String renders v as "wall.logical@region", with wall in RFC 3339 form.
func (v Version) String() string {
	return fmt.Sprintf("%s.%d@%s", v.Time().UTC().Format(time.RFC3339Nano), v.Logical, v.Region)
}

// Token renders v compactly and losslessly ("wall.logical@region", with wall
// in decimal nanoseconds), for logs, JSON and HTTP headers.
func (v Version) Token() string {
	return strconv.FormatInt(v.Wall, 10) + "." + strconv.FormatUint(uint64(v.Logical), 10) + "@" + v.Region
}

// ParseToken is the inverse of Token.
func ParseToken(s string) (Version, error) {
	ts, region, ok := strings.Cut(s, "@")
	if !ok {
		return Version{}, fmt.Errorf("%w: %q has no region", ErrBadVersion, s)
	}
	wall, logical, ok := strings.Cut(ts, ".")
	if !ok {
		return Version{}, fmt.Errorf("%w: %q has no logical part", ErrBadVersion, s)
	}
	w, err := strconv.ParseInt(wall, 10, 64)
	if err != nil {
		return Version{}, fmt.Errorf("%w: wall %q: %w", ErrBadVersion, wall, err)
	}
	l, err := strconv.ParseUint(logical, 10, 32)
	if err != nil {
		return Version{}, fmt.Errorf("%w: logical %q: %w", ErrBadVersion, logical, err)
	}
	return Version{Wall: w, Logical: uint32(l), Region: region}, nil
}

// AppendBinary appends the binary form of v to dst: Wall (8 bytes, big
// endian), Logical (4 bytes, big endian), the length of Region (uvarint)
// and Region.
func (v Version) AppendBinary(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(v.Wall))
	dst = binary.BigEndian.AppendUint32(dst, v.Logical)
	dst = binary.AppendUvarint(dst, uint64(len(v.Region)))
	return append(dst, v.Region...)
}

// DecodeVersion decodes a version written by AppendBinary from the front of
// b and returns it with the number of bytes it used.
func DecodeVersion(b []byte) (Version, int, error) {
	if len(b) < 13 {
		return Version{}, 0, fmt.Errorf("%w: %d bytes", ErrBadVersion, len(b))
	}
	v := Version{
		Wall:    int64(binary.BigEndian.Uint64(b)),
		Logical: binary.BigEndian.Uint32(b[8:]),
	}
	n, k := binary.Uvarint(b[12:])
	if k <= 0 || uint64(len(b)-12-k) < n {
		return Version{}, 0, fmt.Errorf("%w: bad region length", ErrBadVersion)
	}
	used := 12 + k + int(n)
	v.Region = string(b[12+k : used])
	return v, used, nil
}
