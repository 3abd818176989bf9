#ifndef BATAMANTA_BM_GLIBC_H
#define BATAMANTA_BM_GLIBC_H

// GNU extensions the helper needs that Swift's Glibc module does not import.

// mkostemp(template, O_CLOEXEC): the descriptor is close-on-exec from its creation, so no
// subprocess spawned meanwhile inherits it and no second call can fail and leak it.
int bm_mkstemp_cloexec(char *template_path);

// pipe2(fds, O_CLOEXEC), for the same reason: both ends stay out of other children.
int bm_pipe_cloexec(int fds[2]);

#endif
