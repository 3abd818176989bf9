#ifndef BM_CLIBC_PLATFORM_H
#define BM_CLIBC_PLATFORM_H

// What only Linux provides, implemented in platform_linux.c and used through
// DispenserCore/Platform/Linux.swift: a port replaces the two.

/// The process's arguments, found on the initial stack before main.
int bm_argc(void);
char *const *bm_argv(void);

/// sync_file_range(2) of the whole file with SYNC_FILE_RANGE_WRITE: queues its dirty
/// pages for writeback and returns at once. 0 or -1 with errno set.
int bm_start_writeback(int fd);

/// pipe2(2) with O_CLOEXEC on both ends; 0 or -1 with errno set.
int bm_pipe_cloexec(int fds[2]);

/// Closes every descriptor above 2 except `kept` (the extraction lock the VM must hold;
/// -1 for none), so a daemon keeps none of its starter's descriptors.
void bm_close_descriptors_except(int kept);

#endif
