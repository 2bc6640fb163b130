// A load generator for latency at a set rate, in C so that its own costs stay out of the tail it
// measures: on a 2-core machine the Node generator (load.ts) spends 40-100 µs of CPU per request and
// its timers fire on a millisecond clock, which the node:http hello anchor's p99 shows (several ms at
// a few thousand requests a second, where this one measures well under 2).
//
// Same semantics as load.ts: C keep-alive connections to 127.0.0.1 send fixed HTTP/1.1 requests
// (read from a file, rotated); closed-loop when the rate is 0, else request k is due at
// start + k / rate on whichever connection is free (a timerfd wakes the loop on time, to the
// microsecond), and its latency counts from that slot, so a server that falls behind shows it.
// Requests answered within the measured window count; the window's edges are announced on stderr
// (`load-window:start`, `load-window:end`) and the result is one JSON line on stdout, as load.ts's.
//
// Usage: pace <port> <connections> <warmup ms> <duration ms> <rate/s, 0 = closed loop> <requests file>
// The requests file (`-`: standard input, so that the requests, a token among them, never touch the
// disk): the count on the first line, then each request as its byte length on a line of
// its own followed by exactly that many bytes. Responses must carry Content-Length.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 1024
#define RECV_BUFFER 65536
#define DRAIN_NS 2000000000LL

typedef struct {
  int fd;
  int busy;
  const char *out;
  size_t out_len, out_done;
  int64_t started;
  char in[RECV_BUFFER];
  size_t in_len;
} Conn;

static char **requests;
static size_t *request_lens;
static size_t request_count, next_request;
static Conn conns[MAX_CONNECTIONS];
static int connections, port, epfd;
static int64_t *latencies;
static size_t latency_count, latency_cap;
static long errors, answered;
static int measuring;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "pace: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(2);
}

static void read_requests(const char *path) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) die("open requests file");
  if (fscanf(f, "%zu\n", &request_count) != 1 || request_count == 0) die("requests file: count");
  requests = calloc(request_count, sizeof *requests);
  request_lens = calloc(request_count, sizeof *request_lens);
  for (size_t i = 0; i < request_count; i++) {
    if (fscanf(f, "%zu\n", &request_lens[i]) != 1) die("requests file: length");
    requests[i] = malloc(request_lens[i]);
    if (fread(requests[i], 1, request_lens[i], f) != request_lens[i]) die("requests file: bytes");
  }
  fclose(f);
}

static void open_conn(Conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  // Blocking connect above (loopback answers at once), non-blocking from here on.
  if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0) die("fcntl");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
  c->busy = 0;
  c->in_len = 0;
}

static void close_conn(Conn *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
}

static void record(int64_t latency, int ok) {
  if (ok) answered++;
  if (!measuring) return;
  if (!ok) errors++;
  if (latency_count == latency_cap) {
    latency_cap = latency_cap ? latency_cap * 2 : 65536;
    latencies = realloc(latencies, latency_cap * sizeof *latencies);
    if (!latencies) die("memory");
  }
  latencies[latency_count++] = latency;
}

/** A connection failed mid-request: count it and start over on a fresh one. */
static void reconnect(Conn *c) {
  if (c->busy) record(now_ns() - c->started, 0);
  close_conn(c);
  open_conn(c);
}

static void flush_out(Conn *c) {
  while (c->out_done < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_done, c->out_len - c->out_done);
    if (n > 0) {
      c->out_done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    reconnect(c);
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void send_request(Conn *c, int64_t started) {
  size_t i = next_request++ % request_count;
  c->busy = 1;
  c->started = started;
  c->out = requests[i];
  c->out_len = request_lens[i];
  c->out_done = 0;
  c->in_len = 0;
  flush_out(c);
}

/**
 * Parse what arrived: returns 1 when a whole response is in (its status in *status, and *closing set
 * when it says `Connection: close`), 0 when not yet, -1 on garbage.
 */
static int response_complete(Conn *c, int *status, int *closing) {
  char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (!end) return c->in_len == sizeof c->in ? -1 : 0;
  size_t head = (size_t)(end - c->in) + 4;
  if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 ", 9) != 0) return -1;
  *status = atoi(c->in + 9);
  long length = -1;
  for (char *line = memchr(c->in, '\n', head); line && line < end; line = memchr(line + 1, '\n', (size_t)(end - line))) {
    if (strncasecmp(line + 1, "content-length:", 15) == 0) length = atol(line + 16);
    if (strncasecmp(line + 1, "connection: close", 17) == 0) *closing = 1;
  }
  if (length < 0) return -1;
  if (c->in_len < head + (size_t)length) return 0;
  if (c->in_len > head + (size_t)length) return -1; // one request in flight per connection
  return 1;
}

static void on_readable(Conn *c) {
  int closed = 0;
  while (c->in_len < sizeof c->in) {
    ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (n > 0) {
      c->in_len += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EAGAIN) break;
    closed = 1; // the server closed the connection (or it failed): after what it sent is read
    break;
  }
  if (c->busy) {
    int status = 0, closing = 0;
    int done = response_complete(c, &status, &closing);
    if (done < 0) {
      fprintf(stderr, "pace: a response this tool cannot read (it needs Content-Length and one answer per request)\n");
      exit(2);
    }
    if (done > 0) {
      c->busy = 0;
      record(now_ns() - c->started, status == 200);
      closed |= closing; // the server will not read another request on this one
    }
  }
  if (closed) reconnect(c); // a request still unanswered counts as an error
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static void arm(int tfd, int64_t at) {
  struct itimerspec t = {.it_value = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL}};
  if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &t, NULL) < 0) die("timerfd_settime");
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: pace <port> <connections> <warmup ms> <duration ms> <rate/s, 0 = closed loop> <requests file>\n");
    return 2;
  }
  port = atoi(argv[1]);
  connections = atoi(argv[2]);
  int64_t warmup = atoll(argv[3]) * 1000000LL, duration = atoll(argv[4]) * 1000000LL;
  double rate = atof(argv[5]);
  if (port <= 0 || connections <= 0 || connections > MAX_CONNECTIONS || duration <= 0 || rate < 0) {
    fprintf(stderr, "pace: bad arguments\n");
    return 2;
  }
  read_requests(argv[6]);
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  if (tfd < 0) die("timerfd_create");
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &tev) < 0) die("epoll_ctl timer");
  for (int i = 0; i < connections; i++) open_conn(&conns[i]);

  const int64_t start = now_ns(), window_start = start + warmup, window_end = window_start + duration;
  double cpu_start = 0, cpu_used = 0;
  int64_t slot_ns = rate > 0 ? (int64_t)(1e9 / rate) : 0;
  uint64_t slot = 0; // the next slot not yet sent
  int phase = 0;     // 0 warm-up, 1 measuring, 2 draining
  arm(tfd, window_start);
  struct epoll_event events[64];
  for (;;) {
    int64_t now = now_ns();
    if (phase == 0 && now >= window_start) {
      phase = 1;
      measuring = 1;
      cpu_start = cpu_us();
      fputs("load-window:start\n", stderr);
      fflush(stderr);
      arm(tfd, window_end);
    }
    if (phase == 1 && now >= window_end) {
      phase = 2;
      measuring = 0;
      cpu_used = cpu_us() - cpu_start;
      fputs("load-window:end\n", stderr);
      fflush(stderr);
      arm(tfd, now + DRAIN_NS);
    }
    int in_flight = 0;
    for (int i = 0; i < connections; i++) in_flight += conns[i].busy;
    if (phase == 2 && (in_flight == 0 || now >= window_end + DRAIN_NS)) break;
    if (phase < 2) {
      // Hand every due slot (closed loop: every free connection) a request.
      for (int i = 0; i < connections; i++) {
        if (conns[i].busy) continue;
        if (rate == 0) {
          send_request(&conns[i], now);
          continue;
        }
        int64_t due = start + (int64_t)slot * slot_ns;
        if (due > now) break;
        slot++;
        send_request(&conns[i], due);
      }
      if (rate > 0) {
        // Wake for the next slot only while a connection is free to take it; when all are busy, an
        // answer wakes the loop (a timer already due would fire again and again).
        int free = 0;
        for (int i = 0; i < connections && !free; i++) free = !conns[i].busy;
        int64_t due = start + (int64_t)slot * slot_ns;
        int64_t edge = phase == 0 ? window_start : window_end;
        arm(tfd, free && due < edge ? due : edge);
      }
    }
    int n = epoll_wait(epfd, events, 64, 1000);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      Conn *c = events[i].data.ptr;
      if (!c) {
        uint64_t expirations;
        ssize_t r = read(tfd, &expirations, sizeof expirations);
        (void)r;
        continue;
      }
      if (events[i].events & EPOLLOUT) flush_out(c);
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
    }
  }
  qsort(latencies, latency_count, sizeof *latencies, cmp64);
  double seconds = (double)duration / 1e9;
  size_t p50 = latency_count ? (size_t)(latency_count * 0.5) : 0, p99 = latency_count ? (size_t)(latency_count * 0.99) : 0;
  if (p50 >= latency_count && latency_count) p50 = latency_count - 1;
  if (p99 >= latency_count && latency_count) p99 = latency_count - 1;
  printf("{\"requests\":%zu,\"errors\":%ld,\"seconds\":%.6f,\"rps\":%.3f,\"p50Ms\":%.4f,\"p99Ms\":%.4f,\"answered\":%ld,\"generatorCpuUsPerRequest\":%.3f}\n",
         latency_count, errors, seconds, (double)latency_count / seconds,
         latency_count ? (double)latencies[p50] / 1e6 : 0.0, latency_count ? (double)latencies[p99] / 1e6 : 0.0, answered,
         latency_count ? cpu_used / (double)latency_count : 0.0);
  return 0;
}
