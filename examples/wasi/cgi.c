/* A WASI command module that answers HTTP requests the CGI way (docs/wasi.md):
 * the request body on stdin, the request in the environment, the response
 * (a header block, an empty line, the body) on stdout.
 *
 * Built by `make wasi-examples` with Debian's clang and wasi-libc. The
 * runner's tests use its routes, which also misbehave on purpose:
 *   /echo     method, path, query, X-Test header, argv and the body back
 *   /random   16 random bytes in hex, and whether the clocks advance
 *   /status   a 418 with a custom header
 *   /stderr   writes a line to stderr, answers 200
 *   /exit     exits with code 3 after writing a response
 *   /spin     loops forever (stopped by the CPU limit)
 *   /alloc    allocates 1 MiB blocks until malloc fails, then aborts
 *   /recurse  recurses without end (stack exhaustion)
 *   /flood    writes to stdout without end (the output limit)
 *   /sleep    sleeps 50 ms, answers 200
 *   /files    tries to open a file and a directory: there is no filesystem
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v ? v : "";
}

static volatile unsigned long sink;
static char *volatile kept; /* keeps /alloc's blocks from being optimized away */

static unsigned long recurse(unsigned long n) {
    volatile char pad[256];
    pad[n % 256] = (char)n;
    return recurse(n + 1) + pad[0];
}

int main(int argc, char **argv) {
    const char *path = env("PATH_INFO");
    if (strcmp(path, "/echo") == 0) {
        printf("Content-Type: text/plain\n\n");
        printf("method=%s path=%s query=%s x-test=%s\n", env("REQUEST_METHOD"), path, env("QUERY_STRING"),
               env("HTTP_X_TEST"));
        for (int i = 1; i < argc; i++) printf("arg=%s\n", argv[i]);
        printf("body=");
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
        printf("\n");
        return 0;
    }
    if (strcmp(path, "/random") == 0) {
        unsigned char r[16];
        if (getentropy(r, sizeof r) != 0) return 2;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (unsigned long i = 0; i < 1000000; i++) sink += i;
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("Content-Type: text/plain\n\n");
        for (int i = 0; i < 16; i++) printf("%02x", r[i]);
        printf(" monotonic=%s realtime=%lld\n", (b.tv_sec > a.tv_sec || b.tv_nsec > a.tv_nsec) ? "advances" : "stuck",
               (long long)time(NULL));
        return 0;
    }
    if (strcmp(path, "/status") == 0) {
        printf("Status: 418 I'm a teapot\nContent-Type: text/plain\nX-Kind: teapot\n\nshort and stout\n");
        return 0;
    }
    if (strcmp(path, "/stderr") == 0) {
        fprintf(stderr, "cgi: a line for the log\n");
        printf("Content-Type: text/plain\n\nlogged\n");
        return 0;
    }
    if (strcmp(path, "/exit") == 0) {
        printf("Content-Type: text/plain\n\nleaving\n");
        fflush(stdout);
        exit(3);
    }
    if (strcmp(path, "/spin") == 0) {
        for (;;) sink++;
    }
    if (strcmp(path, "/alloc") == 0) {
        for (;;) {
            char *p = malloc(1 << 20);
            if (!p) {
                fprintf(stderr, "cgi: malloc failed\n");
                abort();
            }
            memset(p, 1, 1 << 20);
            kept = p;
        }
    }
    if (strcmp(path, "/recurse") == 0) {
        sink = recurse(0);
        return 0;
    }
    if (strcmp(path, "/flood") == 0) {
        printf("Content-Type: text/plain\n\n");
        for (;;) fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", stdout);
    }
    if (strcmp(path, "/sleep") == 0) {
        struct timespec t = {0, 50 * 1000 * 1000};
        nanosleep(&t, NULL);
        printf("Content-Type: text/plain\n\nslept\n");
        return 0;
    }
    if (strcmp(path, "/files") == 0) {
        int f = open("/etc/passwd", O_RDONLY);
        int d = open(".", O_RDONLY | O_DIRECTORY);
        FILE *w = fopen("out.txt", "w");
        printf("Content-Type: text/plain\n\nopen=%d dir=%d fopen=%s\n", f, d, w ? "ok" : "failed");
        return 0;
    }
    printf("Status: 404 Not Found\nContent-Type: text/plain\n\nno route %s\n", path);
    return 0;
}
