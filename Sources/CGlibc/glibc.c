#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>

#include "bm_glibc.h"

int bm_mkstemp_cloexec(char *template_path) {
    return mkostemp(template_path, O_CLOEXEC);
}
