// The least CPU a paced request costs on this machine, outside Go: one
// thread, one keep-alive connection, clock_nanosleep to each due time
// (absolute, so delays never add up), a blocking write and read, no
// statistics. What is left per request is the kernel's: two sleeps and
// wake-ups and a loopback round trip. bench/open-model.sh prints it beside
// lab's figures. Not part of lab.
//
//   gcc -O2 -o floor bench/floor/floor.c && taskset -c 1 ./floor 500 10
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: floor RATE SECONDS (target: 127.0.0.1:9099)\n");
		return 2;
	}
	int rate = atoi(argv[1]), secs = atoi(argv[2]);
	if (rate <= 0 || secs <= 0) {
		fprintf(stderr, "floor: rate and seconds must be positive\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(9099);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("floor: connect 127.0.0.1:9099");
		return 1;
	}
	const char *req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char buf[4096];
	long long start = now_ns(), step = 1000000000LL / rate, lagmax = 0;
	long n = (long)rate * secs;
	for (long i = 0; i < n; i++) {
		long long due = start + i * step;
		struct timespec d = {due / 1000000000LL, due % 1000000000LL};
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
		long long lag = now_ns() - due;
		if (lag > lagmax)
			lagmax = lag;
		if (write(fd, req, strlen(req)) <= 0 || read(fd, buf, sizeof buf) <= 0) {
			perror("floor: request");
			return 1;
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("C loop      %.1f CPU-µs per request at %d/s (one connection, no statistics; lag max %lld µs)\n", cpu * 1e6 / n, rate, lagmax / 1000);
	return 0;
}
