#define _GNU_SOURCE
#include "CEventPoll.h"
#include <errno.h>
#include <sched.h>
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

int cep_processor_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
