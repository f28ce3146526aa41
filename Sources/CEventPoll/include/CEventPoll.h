#ifndef CEVENTPOLL_H
#define CEVENTPOLL_H
// epoll and eventfd for the HTTP server's event loops: Swift's Glibc module does not export them, and
// `struct epoll_event` is packed on x86-64, so results are unpacked here into plain arrays.
#include <stdint.h>

enum {
    CEP_IN = 0x001,     // EPOLLIN
    CEP_OUT = 0x004,    // EPOLLOUT
    CEP_ERR = 0x008,    // EPOLLERR
    CEP_HUP = 0x010,    // EPOLLHUP
};

/// epoll_create1(EPOLL_CLOEXEC); -1 with errno on failure.
int cep_create(void);
/// A non-blocking, close-on-exec eventfd for waking a loop; -1 with errno on failure.
int cep_eventfd(void);
/// Registers `fd` for `events` (level-triggered), or changes or removes its registration. 0 or -1 with errno.
int cep_add(int epoll_fd, int fd, uint32_t events);
int cep_modify(int epoll_fd, int fd, uint32_t events);
int cep_remove(int epoll_fd, int fd);
/// epoll_wait into two arrays (descriptor, events); returns the count, 0 on timeout, -1 with errno.
int cep_wait(int epoll_fd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms);
/// Adds one to an eventfd (wakes its loop) / reads it back to zero.
void cep_wake(int event_fd);
void cep_drain(int event_fd);
/// Processors this process may use: its CPU affinity (or the online count), capped by its cgroup's CPU quota
/// (`cpu.max`, rounded up).
int cep_processor_count(void);
/// The whole processors a cgroup v2 `cpu.max` file grants ("<quota> <period>", rounded up); 0 for "max", an
/// unreadable file or anything else.
int cep_cpu_quota_processors(const char *cpu_max_path);
/// accept4 with SOCK_CLOEXEC; -1 with errno on failure.
int cep_accept(int listen_fd, void *address, uint32_t *length);

#endif
