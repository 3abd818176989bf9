#ifndef BATAMANTA_CZSTD_SHIM_H
#define BATAMANTA_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
