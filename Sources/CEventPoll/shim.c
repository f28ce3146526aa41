#define _GNU_SOURCE
#include "CEventPoll.h"
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(CEP_IN == EPOLLIN && CEP_OUT == EPOLLOUT && CEP_ERR == EPOLLERR && CEP_HUP == EPOLLHUP,
               "the event constants mirror epoll's");

int cep_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cep_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static int control(int epoll_fd, int operation, int fd, uint32_t events) {
    struct epoll_event event = { .events = events, .data = { .fd = fd } };
    return epoll_ctl(epoll_fd, operation, fd, &event);
}

int cep_add(int epoll_fd, int fd, uint32_t events) { return control(epoll_fd, EPOLL_CTL_ADD, fd, events); }
int cep_modify(int epoll_fd, int fd, uint32_t events) { return control(epoll_fd, EPOLL_CTL_MOD, fd, events); }
int cep_remove(int epoll_fd, int fd) { return control(epoll_fd, EPOLL_CTL_DEL, fd, 0); }

int cep_wait(int epoll_fd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epoll_fd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        fds[i] = ready[i].data.fd;
        events[i] = ready[i].events;
    }
    return count;
}

void cep_wake(int event_fd) {
    uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the loop will wake anyway.
    while (write(event_fd, &one, sizeof one) < 0 && errno == EINTR) {}
}

void cep_drain(int event_fd) {
    uint64_t value;
    while (read(event_fd, &value, sizeof value) < 0 && errno == EINTR) {}
}

int cep_accept(int listen_fd, void *address, uint32_t *length) {
    return accept4(listen_fd, (struct sockaddr *)address, (socklen_t *)length, SOCK_CLOEXEC);
}

// The CPU quota of this process's cgroup (v2 `cpu.max`: "<quota> <period>" or "max <period>"), rounded up to
// whole processors; 0 when there is none or it cannot be read. A container limited to half a CPU on a 16-core
// node should run one loop, not sixteen (as Go's runtime now sizes GOMAXPROCS).
int cep_cpu_quota_processors(const char *cpu_max_path) {
    FILE *file = fopen(cpu_max_path, "re");
    if (file == NULL) return 0;
    char quota[32] = {0};
    long period = 0;
    int fields = fscanf(file, "%31s %ld", quota, &period);
    fclose(file);
    if (fields != 2 || period <= 0 || strcmp(quota, "max") == 0) return 0;
    char *end = NULL;
    long long microseconds = strtoll(quota, &end, 10);
    if (end == quota || microseconds <= 0) return 0;
    long long processors = (microseconds + period - 1) / period;
    return processors > 4096 ? 4096 : (int)processors;
}

int cep_processor_count(void) {
    int count = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) count = CPU_COUNT(&set);
    if (count <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        count = online > 0 ? (int)online : 1;
    }
    int quota = cep_cpu_quota_processors("/sys/fs/cgroup/cpu.max");
    if (quota > 0 && quota < count) count = quota;
    return count;
}
