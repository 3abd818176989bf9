#ifndef BATAMANTA_CZLIB_SHIM_H
#define BATAMANTA_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro (it passes ZLIB_VERSION and sizeof(z_stream)), which Swift
// cannot call. 16 + MAX_WBITS: a gzip stream, not a raw or zlib-wrapped one.
static inline int czlib_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}
#endif
