#ifndef BATAMANTA_CCURL_H
#define BATAMANTA_CCURL_H

#include <curl/curl.h>
#include <stddef.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call; each
// wrapper fixes one argument type so the compiler checks what curl would not.

typedef size_t (*bm_curl_write_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*bm_curl_xferinfo_callback)(void *context, curl_off_t download_total,
                                       curl_off_t download_now, curl_off_t upload_total,
                                       curl_off_t upload_now);

// Macro-valued constants Swift cannot import.
enum { BM_CURL_ERROR_SIZE = CURL_ERROR_SIZE };
CURLcode bm_curl_global_init_default(void);

CURLcode bm_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode bm_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode bm_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode bm_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode bm_curl_setopt_write_function(CURL *handle, bm_curl_write_callback callback);
CURLcode bm_curl_setopt_xferinfo_function(CURL *handle, bm_curl_xferinfo_callback callback);

CURLcode bm_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
