package pgdump

import (
	"io"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// zstdMaxWindow admits the largest window pg_dump's zstd can use (level 22
// or long-distance mode: 2^27 bytes) and refuses frames that would make
// the decoder allocate more.
const zstdMaxWindow = 1 << 27

// decompressors keeps one decoder per algorithm for reuse across the
// blocks of an archive, since zstd and lz4 decoders are costly to create.
type decompressors struct {
	zlib io.ReadCloser
	lz4  *lz4.Reader
	zstd *zstd.Decoder
}

// open returns the decompressed stream of the block that src reads.
func (ds *decompressors) open(c Compression, src io.Reader) (io.Reader, error) {
	switch c {
	case CompressionNone:
		return src, nil
	case CompressionGzip:
		// pg_dump writes a zlib stream (deflateInit), not gzip framing.
		if ds.zlib == nil {
			zr, err := zlib.NewReader(src)
			if err != nil {
				return nil, err
			}
			ds.zlib = zr
			return zr, nil
		}
		if err := ds.zlib.(zlib.Resetter).Reset(src, nil); err != nil {
			return nil, err
		}
		return ds.zlib, nil
	case CompressionLZ4:
		if ds.lz4 == nil {
			ds.lz4 = lz4.NewReader(src)
		} else {
			ds.lz4.Reset(src)
		}
		return ds.lz4, nil
	case CompressionZstd:
		if ds.zstd == nil {
			zd, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(zstdMaxWindow))
			if err != nil {
				return nil, err
			}
			ds.zstd = zd
			return zd, nil
		}
		if err := ds.zstd.Reset(src); err != nil {
			return nil, err
		}
		return ds.zstd, nil
	default:
		return nil, unsupported("unsupported compression %q", c)
	}
}

func (ds *decompressors) close() {
	if ds.zstd != nil {
		ds.zstd.Close()
		ds.zstd = nil
	}
}
