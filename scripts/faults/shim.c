/*
 * A syscall fault injector for eddy, loaded with LD_PRELOAD (see
 * scripts/faults/run, which builds it and says how to drive it).
 *
 * It wraps the libc calls eddy and mio make on sockets and on the
 * driver's poller and waker, and makes a fraction of them fail, come back
 * short, or (for epoll_wait) report readiness that is not there:
 *
 *   EDDY_FAULTS="call:what:probability,..."   the rules
 *   EDDY_FAULTS_SEED=n                         the random seed (default 1)
 *   EDDY_FAULTS_ALL_FDS=1                      also blocking descriptors
 *   EDDY_FAULTS_REPORT=path                    where to append the counts
 *   EDDY_FAULTS_SKIP=n                         leave each call's first n alone
 *                                              (a server's start-up)
 *
 * `call` is one of recv, send, sendmsg, writev, read, write, accept4,
 * connect, epoll_wait, epoll_ctl, epoll_ctl_del, socket, getsockopt,
 * epoll_create1, eventfd, pipe2. `what` is an errno name (EINTR, EAGAIN,
 * ECONNRESET, ...), `short` (move fewer bytes than asked: recv, send,
 * sendmsg, writev, read, write) or `spurious` (epoll_wait: add an event
 * with readable and writable set for a descriptor registered with the
 * poller, which a real poller may do and which the runtime must absorb).
 *
 * Some calls fail in their own way:
 *
 *   epoll_ctl       adds (and modifies) only; the call is not made.
 *   epoll_ctl_del   EPOLL_CTL_DEL: the descriptor is removed for real and
 *                   then the errno is reported, as the kernel does when
 *                   the registration was already gone (ENOENT, EBADF: a
 *                   descriptor closed or replaced behind the caller's
 *                   back). A removal that fails and leaves the
 *                   registration in place is no state a real kernel
 *                   reaches for a live descriptor.
 *   socket          only non-blocking sockets (SOCK_NONBLOCK: mio's, not
 *                   std's blocking ones); no socket is made.
 *   getsockopt      SO_ERROR only: the call is made, and if it found no
 *                   error the rule's errno is reported as the socket's
 *                   pending error (a connect that failed), and the socket
 *                   is shut down for real so the peer sees the end.
 *   epoll_create1, eventfd, pipe2
 *                   fail without making a descriptor: for a runtime being
 *                   built, or its signal pipe (set EDDY_FAULTS_SKIP to 0).
 *
 * Only non-blocking descriptors are touched unless EDDY_FAULTS_ALL_FDS is
 * set: eddy's sockets, its eventfd waker, its signal pipe. The blocking std
 * sockets a test uses as a peer are left alone, so a failure seen is
 * eddy's. read and write are touched only on a driver's waker: an anonymous
 * inode (eventfd) registered with a poller under token 0, mio's waker
 * token in eddy. Never on files, terminals, sockets, pipes, or a user's
 * eventfd or timerfd (an `AsyncFd`'s, registered under another token; the
 * duplicate a test writes through, registered under none): for those a
 * made-up EAGAIN is a lie the kernel never tells, and strands the reader
 * (a timerfd whose ticks are not read fires no new event).
 *
 * A failed call makes no syscall: nothing happened, as the errno says.
 * Except ECONNRESET/EPIPE/... which tell the caller the connection is
 * broken: the shim then shuts the socket down for real, so that the peer
 * sees the connection end (as it would) instead of waiting forever.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/kcmp.h>

enum call {
    C_RECV, C_SEND, C_SENDMSG, C_WRITEV, C_READ, C_WRITE, C_ACCEPT4,
    C_CONNECT, C_EPOLL_WAIT, C_EPOLL_CTL, C_EPOLL_CTL_DEL, C_SOCKET,
    C_GETSOCKOPT, C_EPOLL_CREATE1, C_EVENTFD, C_PIPE2, C_COUNT
};
static const char *call_names[C_COUNT] = {
    "recv", "send", "sendmsg", "writev", "read", "write", "accept4",
    "connect", "epoll_wait", "epoll_ctl", "epoll_ctl_del", "socket",
    "getsockopt", "epoll_create1", "eventfd", "pipe2",
};

#define WHAT_SHORT (-1)
#define WHAT_SPURIOUS (-2)
#define MAX_RULES 32

struct rule {
    enum call call;
    int what; /* an errno, WHAT_SHORT or WHAT_SPURIOUS */
    uint32_t threshold; /* fires when a 32-bit draw is below it */
    char name[48];
    unsigned long fired; /* atomic */
};

static struct rule rules[MAX_RULES];
static int n_rules;
static int has_rule[C_COUNT];
static unsigned long skip;
static unsigned long calls[C_COUNT]; /* atomic */
static int all_fds;
static uint64_t seed = 1;
static const char *report_path;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread uint64_t rng_state;
static __thread int in_shim; /* no injection inside the shim's own calls */

static const struct { const char *name; int value; } errnos[] = {
    {"EINTR", EINTR}, {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM},
    {"ENOSPC", ENOSPC}, {"ECONNABORTED", ECONNABORTED}, {"EMFILE", EMFILE},
    {"ENFILE", ENFILE}, {"ENOBUFS", ENOBUFS}, {"EPIPE", EPIPE},
    {"ECONNRESET", ECONNRESET}, {"ECONNREFUSED", ECONNREFUSED},
    {"EPROTO", EPROTO}, {"ENETDOWN", ENETDOWN}, {"ETIMEDOUT", ETIMEDOUT},
    {"EHOSTUNREACH", EHOSTUNREACH}, {"EEXIST", EEXIST}, {"EPERM", EPERM},
    {"ENOENT", ENOENT}, {"EBADF", EBADF}, {"ENETUNREACH", ENETUNREACH},
};

static int breaks_connection(int e) {
    return e == ECONNRESET || e == EPIPE || e == ETIMEDOUT || e == EHOSTUNREACH;
}

static void die(const char *message, const char *detail) {
    fprintf(stderr, "eddy-faults: %s: %s\n", message, detail);
    _exit(2);
}

static void report(void) {
    if (n_rules == 0)
        return;
    FILE *out = stderr;
    if (report_path) {
        in_shim = 1;
        out = fopen(report_path, "a");
        in_shim = 0;
        if (!out)
            return;
    }
    for (int i = 0; i < n_rules; i++)
        fprintf(out, "eddy-faults: pid %d: %s fired %lu times\n", (int)getpid(),
                rules[i].name, __atomic_load_n(&rules[i].fired, __ATOMIC_RELAXED));
    if (out != stderr)
        fclose(out);
}

__attribute__((constructor)) static void setup(void) {
    const char *spec = getenv("EDDY_FAULTS");
    const char *s = getenv("EDDY_FAULTS_SEED");
    if (s)
        seed = strtoull(s, NULL, 10);
    all_fds = getenv("EDDY_FAULTS_ALL_FDS") != NULL;
    report_path = getenv("EDDY_FAULTS_REPORT");
    const char *k = getenv("EDDY_FAULTS_SKIP");
    if (k)
        skip = strtoul(k, NULL, 10);
    if (!spec || !*spec)
        return;
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (n_rules == MAX_RULES)
            die("too many rules", spec);
        char *call = item, *what = strchr(call, ':');
        if (!what)
            die("a rule is call:what:probability", item);
        *what++ = 0;
        char *p = strchr(what, ':');
        if (!p)
            die("a rule is call:what:probability", item);
        *p++ = 0;
        struct rule *r = &rules[n_rules];
        int c = 0;
        while (c < C_COUNT && strcmp(call_names[c], call) != 0)
            c++;
        if (c == C_COUNT)
            die("unknown call", call);
        r->call = (enum call)c;
        if (strcmp(what, "short") == 0) {
            r->what = WHAT_SHORT;
        } else if (strcmp(what, "spurious") == 0) {
            if (c != C_EPOLL_WAIT)
                die("spurious is for epoll_wait only", item);
            r->what = WHAT_SPURIOUS;
        } else {
            r->what = 0;
            for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
                if (strcmp(errnos[i].name, what) == 0)
                    r->what = errnos[i].value;
            if (!r->what)
                die("unknown errno (add it to the shim's table)", what);
        }
        double prob = strtod(p, NULL);
        if (prob < 0 || prob > 1)
            die("probability must be in [0, 1]", p);
        r->threshold = (uint32_t)(prob * 4294967295.0);
        snprintf(r->name, sizeof r->name, "%s:%s:%s", call, what, p);
        has_rule[c] = 1;
        n_rules++;
    }
    free(copy);
    atexit(report);
}

static uint32_t draw(void) {
    if (rng_state == 0) {
        static uint64_t threads;
        uint64_t n = __atomic_add_fetch(&threads, 1, __ATOMIC_RELAXED);
        rng_state = (seed + 1) * 0x9E3779B97F4A7C15ull ^ (n * 0xBF58476D1CE4E5B9ull);
        if (rng_state == 0)
            rng_state = 1;
    }
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static int is_waker(int fd);

/* Which descriptors a rule may touch. */
static int eligible(int fd, enum call c) {
    /* Calls that make a descriptor have none to look at: their wrappers
     * decide (socket: only non-blocking ones). */
    if (c == C_SOCKET || c == C_EPOLL_CREATE1 || c == C_EVENTFD || c == C_PIPE2)
        return 1;
    if (fd < 0)
        return 0;
    if (c == C_READ || c == C_WRITE) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            return 0;
        /* The waker only: an anonymous inode (which has no type) registered
         * under token 0. Not sockets: a socket's EAGAIN or short read is a
         * lie the kernel never tells (see the notes on rules at the top).
         * Not pipes: the signal pipe is written from a signal handler. Not
         * a user's eventfd or timerfd (see the top). */
        if ((st.st_mode & S_IFMT) != 0 || !is_waker(fd))
            return 0;
    }
    if (all_fds || c == C_EPOLL_WAIT || c == C_EPOLL_CTL || c == C_EPOLL_CTL_DEL)
        return 1;
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK);
}

/* The rule that fires for this call, or NULL. */
static struct rule *pick(enum call c, int fd) {
    if (!has_rule[c] || in_shim)
        return NULL;
    if (skip && __atomic_add_fetch(&calls[c], 1, __ATOMIC_RELAXED) <= skip)
        return NULL;
    in_shim = 1;
    struct rule *fired = NULL;
    if (eligible(fd, c)) {
        for (int i = 0; i < n_rules && !fired; i++)
            if (rules[i].call == c && draw() < rules[i].threshold)
                fired = &rules[i];
    }
    if (fired)
        __atomic_add_fetch(&fired->fired, 1, __ATOMIC_RELAXED);
    in_shim = 0;
    return fired;
}

/* A length in [1, len - 1] for a short transfer; len if it cannot be shorter. */
static size_t shorter(size_t len) {
    if (len < 2)
        return len;
    return 1 + draw() % (len - 1);
}

/* Fails the call with the rule's errno; breaks the connection for real
 * first if the errno says it is broken. */
static ssize_t fail(struct rule *r, int fd) {
    if (breaks_connection(r->what)) {
        in_shim = 1;
        shutdown(fd, SHUT_RDWR);
        in_shim = 0;
    }
    errno = r->what;
    return -1;
}

#define REAL(name, ret, ...)                                         \
    static ret (*real_##name)(__VA_ARGS__);                          \
    if (!real_##name) {                                              \
        real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name); \
        if (!real_##name)                                            \
            die("dlsym failed", #name);                              \
    }

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    REAL(recv, ssize_t, int, void *, size_t, int);
    struct rule *r = pick(C_RECV, fd);
    if (r && r->what == WHAT_SHORT)
        return real_recv(fd, buf, shorter(len), flags);
    if (r)
        return fail(r, fd);
    return real_recv(fd, buf, len, flags);
}

ssize_t read(int fd, void *buf, size_t len) {
    REAL(read, ssize_t, int, void *, size_t);
    struct rule *r = pick(C_READ, fd);
    if (r && r->what == WHAT_SHORT)
        return real_read(fd, buf, shorter(len));
    if (r)
        return fail(r, fd);
    return real_read(fd, buf, len);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    REAL(send, ssize_t, int, const void *, size_t, int);
    struct rule *r = pick(C_SEND, fd);
    if (r && r->what == WHAT_SHORT)
        return real_send(fd, buf, shorter(len), flags);
    if (r)
        return fail(r, fd);
    return real_send(fd, buf, len, flags);
}

ssize_t write(int fd, const void *buf, size_t len) {
    REAL(write, ssize_t, int, const void *, size_t);
    struct rule *r = pick(C_WRITE, fd);
    /* An eventfd takes 8 bytes or nothing: a short write is EINVAL there. */
    if (r && r->what == WHAT_SHORT && len != 8)
        return real_write(fd, buf, shorter(len));
    if (r && r->what != WHAT_SHORT)
        return fail(r, fd);
    return real_write(fd, buf, len);
}

/* Copies `iov` into `out`, cut to at most `limit` bytes and `cap` slices. */
static int cut_iov(const struct iovec *iov, int n, struct iovec *out, int cap, size_t limit) {
    int k = 0;
    for (int i = 0; i < n && k < cap && limit > 0; i++) {
        out[k] = iov[i];
        if (out[k].iov_len > limit)
            out[k].iov_len = limit;
        limit -= out[k].iov_len;
        k++;
    }
    return k;
}

static size_t iov_total(const struct iovec *iov, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    return total;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    REAL(sendmsg, ssize_t, int, const struct msghdr *, int);
    struct rule *r = pick(C_SENDMSG, fd);
    if (r && r->what == WHAT_SHORT && msg->msg_iovlen > 0) {
        struct iovec cut[64];
        struct msghdr copy = *msg;
        size_t total = iov_total(msg->msg_iov, (int)msg->msg_iovlen);
        copy.msg_iov = cut;
        copy.msg_iovlen = cut_iov(msg->msg_iov, (int)msg->msg_iovlen, cut, 64, shorter(total));
        return real_sendmsg(fd, &copy, flags);
    }
    if (r && r->what != WHAT_SHORT)
        return fail(r, fd);
    return real_sendmsg(fd, msg, flags);
}

ssize_t writev(int fd, const struct iovec *iov, int n) {
    REAL(writev, ssize_t, int, const struct iovec *, int);
    struct rule *r = pick(C_WRITEV, fd);
    if (r && r->what == WHAT_SHORT && n > 0) {
        struct iovec cut[64];
        int k = cut_iov(iov, n, cut, 64, shorter(iov_total(iov, n)));
        return real_writev(fd, cut, k);
    }
    if (r && r->what != WHAT_SHORT)
        return fail(r, fd);
    return real_writev(fd, iov, n);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    REAL(accept4, int, int, struct sockaddr *, socklen_t *, int);
    struct rule *r = pick(C_ACCEPT4, fd);
    if (r && r->what != WHAT_SHORT) {
        if (r->what == ECONNABORTED || r->what == EPROTO) {
            /* As the kernel does: the connection it names is gone. */
            int accepted = real_accept4(fd, addr, len, flags);
            if (accepted < 0)
                return -1;
            in_shim = 1;
            close(accepted);
            in_shim = 0;
        }
        errno = r->what;
        return -1;
    }
    return real_accept4(fd, addr, len, flags);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    REAL(connect, int, int, const struct sockaddr *, socklen_t);
    struct rule *r = pick(C_CONNECT, fd);
    /* Fails before connecting, EINTR included: a connect interrupted
     * after it started goes on asynchronously (POSIX), but mio closes the
     * socket at any error, so the peer would see a stray connection that
     * no real non-blocking connect on Linux (which never sleeps, so is
     * never interrupted) makes. */
    if (r && r->what != WHAT_SHORT) {
        errno = r->what;
        return -1;
    }
    return real_connect(fd, addr, len);
}

/* The registrations each poller holds, for spurious events. */
#define MAX_REGISTERED 65536
struct registered {
    int epfd, fd;
    uint32_t events;
    uint64_t data;
};
static struct registered registered[MAX_REGISTERED];
static int n_registered;

static void track(int epfd, int op, int fd, const struct epoll_event *event) {
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < n_registered && !(registered[i].epfd == epfd && registered[i].fd == fd))
        i++;
    if (op == EPOLL_CTL_DEL) {
        if (i < n_registered)
            registered[i] = registered[--n_registered];
    } else if (event) {
        if (i == n_registered && n_registered < MAX_REGISTERED)
            n_registered++;
        if (i < n_registered) {
            registered[i].epfd = epfd;
            registered[i].fd = fd;
            registered[i].events = event->events;
            registered[i].data = event->data.u64;
        }
    }
    pthread_mutex_unlock(&lock);
}

/* Whether `fd` is registered with some poller under token 0 (a waker's). */
static int is_waker(int fd) {
    int found = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_registered && !found; i++)
        found = registered[i].fd == fd && registered[i].data == 0;
    pthread_mutex_unlock(&lock);
    return found;
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) {
    REAL(epoll_ctl, int, int, int, int, struct epoll_event *);
    struct rule *r = pick(op != EPOLL_CTL_DEL ? C_EPOLL_CTL : C_EPOLL_CTL_DEL, epfd);
    if (r && r->what > 0 && op != EPOLL_CTL_DEL) {
        errno = r->what;
        return -1;
    }
    int result = real_epoll_ctl(epfd, op, fd, event);
    if (result == 0)
        track(epfd, op, fd, event);
    if (result == 0 && r && r->what > 0) {
        /* EPOLL_CTL_DEL: removed for real, reported as already gone. */
        errno = r->what;
        return -1;
    }
    return result;
}

int socket(int domain, int type, int protocol) {
    REAL(socket, int, int, int, int);
    struct rule *r = (type & SOCK_NONBLOCK) ? pick(C_SOCKET, -1) : NULL;
    if (r && r->what > 0) {
        errno = r->what;
        return -1;
    }
    return real_socket(domain, type, protocol);
}

int getsockopt(int fd, int level, int name, void *value, socklen_t *len) {
    REAL(getsockopt, int, int, int, int, void *, socklen_t *);
    int result = real_getsockopt(fd, level, name, value, len);
    if (result != 0 || level != SOL_SOCKET || name != SO_ERROR || !value || !len ||
        *len < sizeof(int) || *(int *)value != 0)
        return result;
    struct rule *r = pick(C_GETSOCKOPT, fd);
    if (r && r->what > 0) {
        in_shim = 1;
        shutdown(fd, SHUT_RDWR);
        in_shim = 0;
        *(int *)value = r->what;
    }
    return result;
}

int epoll_create1(int flags) {
    REAL(epoll_create1, int, int);
    struct rule *r = pick(C_EPOLL_CREATE1, -1);
    if (r && r->what > 0) {
        errno = r->what;
        return -1;
    }
    return real_epoll_create1(flags);
}

int eventfd(unsigned int initial, int flags) {
    REAL(eventfd, int, unsigned int, int);
    struct rule *r = pick(C_EVENTFD, -1);
    if (r && r->what > 0) {
        errno = r->what;
        return -1;
    }
    return real_eventfd(initial, flags);
}

int pipe2(int fds[2], int flags) {
    REAL(pipe2, int, int *, int);
    struct rule *r = pick(C_PIPE2, -1);
    if (r && r->what > 0) {
        errno = r->what;
        return -1;
    }
    return real_pipe2(fds, flags);
}

int close(int fd) {
    REAL(close, int, int);
    /* A descriptor closed without EPOLL_CTL_DEL leaves every poller. */
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_registered;) {
        if (registered[i].fd == fd)
            registered[i] = registered[--n_registered];
        else
            i++;
    }
    pthread_mutex_unlock(&lock);
    return real_close(fd);
}

/* Whether `a` and `b` name one open file: one poller. mio registers
 * through a duplicate of the descriptor it waits on (`Registry::try_clone`),
 * so the numbers differ; a token from another runtime's poller must never
 * be delivered here (its `ScheduledIo` belongs to another driver). */
static int same_poller(int a, int b) {
    if (a == b)
        return 1;
    pid_t pid = getpid();
    return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    REAL(epoll_wait, int, int, struct epoll_event *, int, int);
    struct rule *r = pick(C_EPOLL_WAIT, epfd);
    if (r && r->what > 0) {
        errno = r->what;
        return -1;
    }
    int n = real_epoll_wait(epfd, events, max, timeout);
    if (n >= 0 && n < max && r && r->what == WHAT_SPURIOUS) {
        pthread_mutex_lock(&lock);
        int candidates = 0;
        for (int i = 0; i < n_registered; i++)
            candidates += same_poller(registered[i].epfd, epfd);
        if (candidates > 0) {
            int k = (int)(draw() % (uint32_t)candidates);
            for (int i = 0; i < n_registered; i++) {
                if (!same_poller(registered[i].epfd, epfd) || k-- != 0)
                    continue;
                events[n].events = registered[i].events & (EPOLLIN | EPOLLOUT);
                events[n].data.u64 = registered[i].data;
                if (events[n].events)
                    n++;
                break;
            }
        }
        pthread_mutex_unlock(&lock);
    }
    return n;
}
