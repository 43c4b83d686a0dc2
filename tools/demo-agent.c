// SPDX-License-Identifier: MIT
/*
 * The demo's "coding agent": does a little allowed work, then tries three
 * things its policy forbids, and says what the kernel answered each time.
 *   demo-agent serve PORT      a local "registry" for the agent to fetch from
 *   demo-agent work DIR        the agent (run inside the task)
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

static void report(const char *what, int err, const char *detail)
{
	printf("agent: %-44s %s%s%s\n", what, err ? "DENIED: " : "ok",
	       err ? strerror(err) : detail ? ": " : "", err ? "" : detail ? detail : "");
	fflush(stdout);
}

static int tcp(const char *ip, int port, char *reply, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;
	ssize_t n;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
	} else if (reply) {
		if (write(fd, "GET /libfoo-1.2.tar.gz\n", 23) < 0)
			err = errno;
		n = read(fd, reply, size - 1);
		reply[n > 0 ? n : 0] = '\0';
		reply[strcspn(reply, "\r\n")] = '\0';
	}
	close(fd);
	return err;
}

static int serve(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, c;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		perror("demo-agent serve");
		return 1;
	}
	while ((c = accept(fd, NULL, NULL)) >= 0) {
		char buf[256];

		if (read(c, buf, sizeof(buf)) >= 0 &&
		    write(c, "200 OK libfoo-1.2.tar.gz\n", 25) < 0)
			perror("demo-agent serve");
		close(c);
	}
	return 0;
}

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(errno == EPERM || errno == EACCES ? 100 + errno : 127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) > 100 ? WEXITSTATUS(status) - 100 : 0;
}

static int work(const char *dir, const char *home, const char *unlisted)
{
	char path[4096], reply[128];
	int fd, err;

	if (chdir(dir))
		return 1;
	fd = open("main.c", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	err = fd < 0 ? errno : 0;
	if (fd >= 0) {
		if (write(fd, "int main(void) { return 0; }\n", 29) < 0)
			err = errno;
		close(fd);
	}
	report("edit main.c in the checkout", err, NULL);
	{
		char *sh[] = { "/bin/sh", "-c", "grep -c main main.c > build.log", NULL };

		report("run the build (/bin/sh -c grep ...)", run(sh), NULL);
	}
	report("fetch a dependency from 127.0.0.1:8080", tcp("127.0.0.1", 8080, reply, sizeof(reply)),
	       reply);
	snprintf(path, sizeof(path), "%s/.ssh/id_ed25519", home);
	fd = open(path, O_RDONLY);
	report("read ~/.ssh/id_ed25519", fd < 0 ? errno : 0, NULL);
	if (fd >= 0)
		close(fd);
	{
		char *cmd[] = { (char *)unlisted, "--version", NULL };

		snprintf(path, sizeof(path), "exec %s", unlisted);
		report(path, run(cmd), NULL);
	}
	report("connect to 10.1.2.3:443", tcp("10.1.2.3", 443, NULL, 0), NULL);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "work"))
		return work(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: demo-agent serve PORT | demo-agent work DIR HOME UNLISTED\n");
	return 2;
}
