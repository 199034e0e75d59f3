/*
 * Power-loss recorder, loaded with LD_PRELOAD into the server under test.
 *
 * It models what a disk holds after power is cut: the content of a file as of its last
 * fsync/fdatasync, and the entries of a directory as of the directory's last fsync.
 * Nothing else survives: writes never synced, sync_file_range (which syncs no metadata
 * and flushes no disk cache), and new names in a directory never synced are lost.
 *
 * NIANBAO_PL_DIR    the data directory to watch (absolute path)
 * NIANBAO_PL_IMAGE  where to record the durable state:
 *                   inode/<dev>_<ino>   a file's content at its last sync
 *                   dir/<rel path with '/' as '%'>.names   a directory's entries at its
 *                   last sync, one "name<TAB>dev_ino<TAB>f|d" per line
 * At start everything already under the directory counts as durable. tests/powerloss.rs
 * rebuilds the directory from the image after killing the server, and restarts on it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char watched[PATH_MAX];
static char image[PATH_MAX];
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void die(const char *what) {
    fprintf(stderr, "powerloss shim: %s: %s\n", what, strerror(errno));
    _exit(99);
}

/* The path relative to the watched directory ("" for itself), or NULL when outside it. */
static const char *relative(const char *path) {
    size_t n = strlen(watched);
    if (strncmp(path, watched, n) != 0) return NULL;
    if (path[n] == 0) return "";
    if (path[n] != '/') return NULL;
    return path + n + 1;
}

static void copy_file(const char *from, const char *to) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        if (errno == ENOENT) return; /* deleted meanwhile */
        die("open for copy");
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) die("create copy");
    char buf[1 << 16];
    ssize_t got;
    while ((got = read(in, buf, sizeof buf)) > 0) {
        ssize_t at = 0;
        while (at < got) {
            ssize_t put = write(out, buf + at, (size_t)(got - at));
            if (put < 0) die("write copy");
            at += put;
        }
    }
    if (got < 0) die("read for copy");
    close(in);
    close(out);
    if (rename(tmp, to) != 0) die("rename copy");
}

static void record_file(const char *path, const struct stat *st) {
    char to[PATH_MAX];
    snprintf(to, sizeof to, "%s/inode/%lu_%lu", image, (unsigned long)st->st_dev,
             (unsigned long)st->st_ino);
    copy_file(path, to);
}

static void record_dir(const char *path, const char *rel) {
    char name[PATH_MAX], to[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(name, sizeof name, "%s", *rel ? rel : ".");
    for (char *c = name; *c; c++)
        if (*c == '/') *c = '%';
    snprintf(to, sizeof to, "%s/dir/%s.names", image, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT) return;
        die("opendir");
    }
    FILE *out = fopen(tmp, "w");
    if (!out) die("create names");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char child[PATH_MAX];
        struct stat st;
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (lstat(child, &st) != 0) continue;
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;
        fprintf(out, "%s\t%lu_%lu\t%c\n", e->d_name, (unsigned long)st.st_dev,
                (unsigned long)st.st_ino, S_ISDIR(st.st_mode) ? 'd' : 'f');
    }
    closedir(d);
    fclose(out);
    if (rename(tmp, to) != 0) die("rename names");
}

/* Records everything under `path` as durable (the state before the server started). */
static void record_tree(const char *path) {
    const char *rel = relative(path);
    record_dir(path, rel);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char child[PATH_MAX];
        struct stat st;
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (lstat(child, &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            record_tree(child);
        else if (S_ISREG(st.st_mode))
            record_file(child, &st);
    }
    closedir(d);
}

static void record(int fd) {
    if (!watched[0]) return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return;
    path[n] = 0;
    const char *rel = relative(path);
    if (!rel) return;
    struct stat st;
    if (fstat(fd, &st) != 0) return;
    pthread_mutex_lock(&lock);
    if (S_ISDIR(st.st_mode))
        record_dir(path, rel);
    else if (S_ISREG(st.st_mode))
        record_file(link, &st);
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void start(void) {
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    const char *dir = getenv("NIANBAO_PL_DIR");
    const char *img = getenv("NIANBAO_PL_IMAGE");
    if (!dir || !img) return;
    if (!realpath(dir, watched)) die("realpath of NIANBAO_PL_DIR");
    snprintf(image, sizeof image, "%s", img);
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/inode", image);
    mkdir(image, 0700);
    if (mkdir(sub, 0700) != 0 && errno != EEXIST) die("mkdir image/inode");
    snprintf(sub, sizeof sub, "%s/dir", image);
    if (mkdir(sub, 0700) != 0 && errno != EEXIST) die("mkdir image/dir");
    record_tree(watched);
}

int fsync(int fd) {
    int r = real_fsync(fd);
    if (r == 0) record(fd);
    return r;
}

int fdatasync(int fd) {
    int r = real_fdatasync(fd);
    if (r == 0) record(fd);
    return r;
}
