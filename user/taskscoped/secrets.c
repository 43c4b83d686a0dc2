// SPDX-License-Identifier: MIT
/*
 * Task secrets: minted (exec:) or copied (file:) at task start, as the
 * task's owner, never as root; delivered as a 0400 file in
 * SECRETS_DIR/<task>/ that the kernel lets only the task's members and
 * the daemon open (map ts_secrets), and/or handed to `taskscope run` for
 * the command's environment; removed and revoked when the task ends.
 *
 * A secret value lives only in a buffer excluded from core dumps
 * (MADV_DONTDUMP; the daemon is also not dumpable at all), is zeroed
 * (explicit_bzero) once written, and never reaches an event, a log line,
 * `show`, or an error message: those name secrets, nothing more.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "daemon.h"
#include "ts_duration.h"
#include "ts_log.h"
#include "ts_names.h"
#include "ts_pathvar.h"

#define MAX_REVOKE_ATTEMPTS 5
#define MAX_ARGS 32

/* A secret value: pages that a core dump leaves out, zeroed on release. */
struct secret_buf {
	char *p;
	size_t cap, len;
};

static int buf_alloc(struct secret_buf *b, size_t cap)
{
	b->cap = (cap + 4095) & ~4095ul;
	b->len = 0;
	b->p = mmap(NULL, b->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->p == MAP_FAILED) {
		b->p = NULL;
		return -ENOMEM;
	}
	madvise(b->p, b->cap, MADV_DONTDUMP);
	return 0;
}

static void buf_free(struct secret_buf *b)
{
	if (!b->p)
		return;
	explicit_bzero(b->p, b->cap);
	munmap(b->p, b->cap);
	b->p = NULL;
}

static void secrets_dir_of(struct daemon *d, __u64 id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%016llx", d->cfg.secrets_dir, (unsigned long long)id);
}

int secrets_init(struct daemon *d)
{
	struct stat st;
	int err;

	if (!d->cfg.secrets_dir[0] &&
	    (size_t)snprintf(d->cfg.secrets_dir, sizeof(d->cfg.secrets_dir), "%s/secrets",
			     d->cfg.state_dir) >= sizeof(d->cfg.secrets_dir)) {
		ts_err("state directory '%s' is too long", d->cfg.state_dir);
		return -ENAMETOOLONG;
	}
	if (mkdir(d->cfg.secrets_dir, 0755) && errno != EEXIST) {
		err = -errno;
		ts_err("cannot create secrets directory '%s': %s", d->cfg.secrets_dir,
		       strerror(-err));
		return err;
	}
	if (stat(d->cfg.secrets_dir, &st)) {
		err = -errno;
		ts_err("cannot stat '%s': %s", d->cfg.secrets_dir, strerror(-err));
		return err;
	}
	return ts_kernel_set_secrets_dev(d->k, st.st_dev);
}

/* "exec:/prog a b" into argv (in place, in `copy`): words split on spaces,
 * no shell. */
static int split_command(const char *command, char *copy, size_t size, char **argv)
{
	int argc = 0;
	char *save, *w;

	snprintf(copy, size, "%s", command + 5);
	for (w = strtok_r(copy, " \t", &save); w && argc < MAX_ARGS - 1;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return argc ? 0 : -EINVAL;
}

/* In the helper child: the owner's identity and a small, known environment. */
static void become_owner(uid_t uid, gid_t gid, const char *task_id, const char *ttl,
			 const char *spiffe)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd >= 0) {
		dup2(fd, 0);
		if (fd > 2)
			close(fd);
	}
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
		_exit(126);
	clearenv();
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	setenv("TASKSCOPE_TASK_ID", task_id, 1);
	setenv("TASKSCOPE_TTL", ttl, 1);
	setenv("TASKSCOPE_SPIFFE_ID", spiffe, 1);
}

/*
 * Run a helper as (uid, gid): `command` ("exec:...") or, with `file`, a
 * copy of that file made with the owner's rights. Its output (at most
 * max bytes) goes to out; its stderr's first line into why on failure.
 * Returns 0, or -errno with why set.
 */
static int run_helper(const char *command, const char *file, uid_t uid, gid_t gid,
		      const char *task_id, const char *ttl, const char *spiffe, __u64 timeout_ns,
		      struct secret_buf *out, size_t max, char *why, size_t why_size)
{
	int outp[2], errp[2], status, rc = 0, err;
	char copy[4096], *argv[MAX_ARGS], err_text[256] = "";
	size_t err_len = 0;
	__u64 deadline = now_boot_ns() + timeout_ns;
	pid_t pid;

	if (!file && split_command(command, copy, sizeof(copy), argv)) {
		snprintf(why, why_size, "empty command");
		return -EINVAL;
	}
	if (pipe2(outp, O_CLOEXEC)) {
		err = -errno;
		snprintf(why, why_size, "cannot create pipes: %s", strerror(-err));
		return err;
	}
	if (pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		close(outp[0]);
		close(outp[1]);
		snprintf(why, why_size, "cannot create pipes: %s", strerror(-err));
		return err;
	}
	pid = fork();
	if (pid == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		become_owner(uid, gid, task_id, ttl, spiffe);
		if (file) {
			char chunk[65536];
			ssize_t n;
			int fd = open(file, O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				fprintf(stderr, "cannot open %s: %s\n", file, strerror(errno));
				_exit(1);
			}
			while ((n = read(fd, chunk, sizeof(chunk))) > 0)
				if (write(1, chunk, (size_t)n) != n)
					_exit(1);
			explicit_bzero(chunk, sizeof(chunk));
			_exit(n < 0);
		}
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	if (pid < 0) {
		close(outp[0]);
		close(errp[0]);
		snprintf(why, why_size, "cannot fork: %s", strerror(errno));
		return -EAGAIN;
	}
	for (;;) {
		struct pollfd pfd[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
		__u64 now = now_boot_ns();
		int left_ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000) + 1;
		ssize_t n;

		if (pfd[0].fd < 0 && pfd[1].fd < 0)
			break;
		if (poll(pfd, 2, left_ms) <= 0) {
			if (now_boot_ns() < deadline)
				continue;
			snprintf(why, why_size, "did not finish within %llus",
				 (unsigned long long)(timeout_ns / TS_NSEC_PER_SEC));
			rc = -ETIMEDOUT;
			break;
		}
		if (pfd[0].revents) {
			n = out && out->len < out->cap ? read(outp[0], out->p + out->len,
							    out->cap - out->len)
						       : read(outp[0], copy, sizeof(copy));
			if (n <= 0) {
				close(outp[0]);
				outp[0] = -1;
			} else if (out && (out->len += (size_t)n) > max) {
				snprintf(why, why_size, "printed more than %zu bytes", max);
				rc = -EFBIG;
				break;
			}
		}
		if (pfd[1].revents) {
			n = read(errp[0], err_text + err_len,
				 err_len < sizeof(err_text) - 1 ? sizeof(err_text) - 1 - err_len : 0);
			if (n <= 0) {
				close(errp[0]);
				errp[0] = -1;
			} else {
				err_len += (size_t)n;
			}
		}
		if (outp[0] < 0 && errp[0] < 0)
			break;
	}
	if (rc)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (outp[0] >= 0)
		close(outp[0]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		err_text[err_len] = '\0';
		err_text[strcspn(err_text, "\n")] = '\0';
		snprintf(why, why_size, "exited with status %d%s%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			 err_text[0] ? ": " : "", err_text);
		rc = -EIO;
	}
	return rc;
}

static void task_env(struct daemon *d, const struct task *t, char id[17], char ttl[32],
		     char *spiffe, size_t size)
{
	__u64 now = now_boot_ns();

	ts_task_id_text(t->id, id);
	ts_duration_format(t->deadline_ns > now ? t->deadline_ns - now : 0, ttl, 32);
	snprintf(spiffe, size, "spiffe://%s/task/%s", d->cfg.trust_domain, id);
}

/* Write the value to a new 0400 file owned by the task's owner. The inode
 * is guarded before the first byte is written. */
static int write_secret_file(struct daemon *d, struct task *t, const char *dir,
			     struct secret *s, const struct secret_buf *v, char *why,
			     size_t why_size)
{
	char path[PATH_MAX + 80];
	struct stat st;
	int fd, err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, s->name) >= sizeof(path)) {
		snprintf(why, why_size, "its path is too long");
		return -ENAMETOOLONG;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(why, why_size, "cannot create its file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	s->ino = st.st_ino;
	err = ts_kernel_secret_add(d->k, s->ino, t->id);
	if (!err && (write(fd, v->p, v->len) != (ssize_t)v->len || fsync(fd)))
		err = -errno;
	if (!err && fchown(fd, t->owner, t->owner_gid))
		err = -errno;
	close(fd);
	if (err)
		snprintf(why, why_size, "cannot write its file: %s", strerror(-err));
	return err;
}

static gid_t gid_of(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	return !getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res ? res->pw_gid : (gid_t)uid;
}

static void queue_revoke(struct daemon *d, const struct task *t, const struct secret *s);

int secrets_start(struct daemon *d, struct task *t, const struct ts_policy *policy,
		  bool want_env, json_t **env, char *msg, size_t msg_size)
{
	char dir[PATH_MAX + 32], id[17], ttl[32], spiffe[400], why[300];
	bool made_dir = false;
	struct stat st;
	size_t i;
	int err = 0;

	*env = NULL;
	if (!policy->nsecrets)
		return 0;
	t->owner_gid = gid_of(t->owner);
	t->secrets = calloc(policy->nsecrets, sizeof(*t->secrets));
	if (!t->secrets)
		return -ENOMEM;
	task_env(d, t, id, ttl, spiffe, sizeof(spiffe));
	secrets_dir_of(d, t->id, dir, sizeof(dir));
	for (i = 0; !err && i < policy->nsecrets; i++) {
		const struct ts_secret_spec *spec = &policy->secrets[i];
		struct secret *s = &t->secrets[t->nsecrets];
		struct secret_buf v = { 0 };
		char file[PATH_MAX + 1];

		snprintf(s->name, sizeof(s->name), "%s", spec->name);
		s->deliver_file = spec->deliver_file;
		s->deliver_env = spec->deliver_env;
		s->revoke = spec->revoke ? strdup(spec->revoke) : NULL;
		err = buf_alloc(&v, d->cfg.secret_max_bytes + 1);
		if (!err && !strncmp(spec->source, "file:", 5) &&
		    ts_path_expand(spec->source + 5, &t->vars, file, sizeof(file), why,
				   sizeof(why)))
			err = -EINVAL;
		else if (!err)
			err = run_helper(spec->source, strncmp(spec->source, "file:", 5) ? NULL : file,
					 t->owner, t->owner_gid, id, ttl, spiffe,
					 d->cfg.helper_timeout_ns, &v, d->cfg.secret_max_bytes, why,
					 sizeof(why));
		if (!err)
			t->nsecrets++; /* minted: from now on it must be revoked */
		if (!err && s->deliver_file && !made_dir) {
			if (mkdir(dir, 0700) || stat(dir, &st)) {
				snprintf(why, sizeof(why), "cannot create '%.200s': %s", dir,
					 strerror(errno));
				err = -errno;
			} else {
				made_dir = true;
				t->secrets_dir_ino = st.st_ino;
				err = ts_kernel_secret_add(d->k, st.st_ino, t->id);
			}
		}
		if (!err && s->deliver_file)
			err = write_secret_file(d, t, dir, s, &v, why, sizeof(why));
		if (!err && s->deliver_env && want_env) {
			json_t *val = json_stringn(v.p, v.len);

			if (!val) {
				snprintf(why, sizeof(why), "its value is not UTF-8 text: deliver it as a file");
				err = -EINVAL;
			} else {
				if (!*env)
					*env = json_object();
				json_object_set_new(*env, s->name, val);
			}
		}
		buf_free(&v);
		if (err)
			snprintf(msg, msg_size, "secret '%s': %s", spec->name, why);
	}
	if (!err && made_dir && (chown(dir, t->owner, t->owner_gid) || chmod(dir, 0500))) {
		snprintf(msg, msg_size, "cannot hand '%s' to uid %u: %s", dir, (unsigned int)t->owner,
			 strerror(errno));
		err = -errno;
	}
	if (err) {
		json_decref(*env);
		*env = NULL;
		secrets_end(d, t); /* remove what was made, revoke what was minted */
		return err;
	}
	for (i = 0; i < t->nsecrets; i++)
		events_lifecycle(d, t->id, "secret delivered", 1, "secret delivered",
				 "\"secret\":\"%s\",\"file\":%s,\"env\":%s", t->secrets[i].name,
				 t->secrets[i].deliver_file ? "true" : "false",
				 t->secrets[i].deliver_env && want_env ? "true" : "false");
	return 0;
}

void secrets_end(struct daemon *d, struct task *t)
{
	char dir[PATH_MAX + 32], path[PATH_MAX + 100];
	size_t i;

	secrets_dir_of(d, t->id, dir, sizeof(dir));
	for (i = 0; i < t->nsecrets; i++) {
		struct secret *s = &t->secrets[i];

		snprintf(path, sizeof(path), "%s/%s", dir, s->name);
		if (unlink(path) && errno != ENOENT)
			ts_err("cannot remove secret file '%s': %s", path, strerror(errno));
		if (s->ino)
			ts_kernel_secret_remove(d->k, s->ino);
		if (s->revoke)
			queue_revoke(d, t, s);
		else
			events_lifecycle(d, t->id, "secret removed", 1, "secret removed",
					 "\"secret\":\"%s\"", s->name);
		free(s->revoke);
	}
	rmdir(dir);
	if (t->secrets_dir_ino)
		ts_kernel_secret_remove(d->k, t->secrets_dir_ino);
	ts_kernel_secrets_clear(d->k, t->id);
	free(t->secrets);
	t->secrets = NULL;
	t->nsecrets = 0;
	t->secrets_dir_ino = 0;
	if (d->nrevokes)
		state_save_revokes(d);
}

static void queue_revoke(struct daemon *d, const struct task *t, const struct secret *s)
{
	struct revoke_job *bigger = realloc(d->revokes, (d->nrevokes + 1) * sizeof(*bigger));
	struct revoke_job *j;
	char id[17], ttl[32];

	if (!bigger) {
		ts_err("task %016llx: cannot queue the revocation of secret '%s': out of memory",
		       (unsigned long long)t->id, s->name);
		return;
	}
	d->revokes = bigger;
	j = &d->revokes[d->nrevokes++];
	memset(j, 0, sizeof(*j));
	j->task_id = t->id;
	snprintf(j->name, sizeof(j->name), "%s", s->name);
	j->command = strdup(s->revoke);
	j->uid = t->owner;
	j->gid = t->owner_gid;
	task_env(d, t, id, ttl, j->spiffe, sizeof(j->spiffe));
	j->next_ns = 0;
}

static void job_free(struct daemon *d, size_t i)
{
	free(d->revokes[i].command);
	d->revokes[i] = d->revokes[--d->nrevokes];
}

/* Start a revoke helper without waiting for it: teardown never blocks the
 * daemon. Its outcome is read by secrets_sweep. */
static void job_spawn(struct daemon *d, struct revoke_job *j)
{
	char copy[4096], *argv[MAX_ARGS], id[17];
	pid_t pid;

	ts_task_id_text(j->task_id, id);
	if (split_command(j->command, copy, sizeof(copy), argv)) {
		j->attempts = MAX_REVOKE_ATTEMPTS;
		return;
	}
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		become_owner(j->uid, j->gid, id, "0s", j->spiffe);
		setenv("TASKSCOPE_SECRET_NAME", j->name, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	j->attempts++;
	j->pid = pid > 0 ? pid : 0;
	j->deadline_ns = now_boot_ns() + d->cfg.helper_timeout_ns;
}

void secrets_sweep(struct daemon *d)
{
	__u64 now = now_boot_ns();
	bool changed = false;
	size_t i = 0;

	while (i < d->nrevokes) {
		struct revoke_job *j = &d->revokes[i];
		int status;

		if (!j->pid) {
			if (now >= j->next_ns)
				job_spawn(d, j);
			if (!j->pid && j->attempts >= MAX_REVOKE_ATTEMPTS) {
				events_lifecycle(d, j->task_id, "secret revoke failed", 4,
						 "secret revoke helper could not run",
						 "\"secret\":\"%s\",\"attempts\":%u", j->name, j->attempts);
				job_free(d, i);
				changed = true;
				continue;
			}
			i++;
			continue;
		}
		if (waitpid(j->pid, &status, WNOHANG) == 0) {
			if (now < j->deadline_ns) {
				i++;
				continue;
			}
			kill(j->pid, SIGKILL);
			waitpid(j->pid, &status, 0);
			status = -1; /* timed out */
		}
		j->pid = 0;
		if (status != -1 && WIFEXITED(status) && !WEXITSTATUS(status)) {
			events_lifecycle(d, j->task_id, "secret revoked", 1, "secret revoked",
					 "\"secret\":\"%s\",\"attempts\":%u", j->name, j->attempts);
			job_free(d, i);
			changed = true;
			continue;
		}
		events_lifecycle(d, j->task_id,
				 j->attempts >= MAX_REVOKE_ATTEMPTS ? "secret revoke failed"
								    : "secret revoke retry",
				 j->attempts >= MAX_REVOKE_ATTEMPTS ? 4 : 3,
				 "secret revoke helper failed", "\"secret\":\"%s\",\"attempts\":%u,"
				 "\"status\":%d",
				 j->name, j->attempts,
				 status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		if (j->attempts >= MAX_REVOKE_ATTEMPTS) {
			job_free(d, i);
			changed = true;
			continue;
		}
		/* 1 s, 2 s, 4 s, 8 s between attempts. */
		j->next_ns = now + (TS_NSEC_PER_SEC << (j->attempts - 1));
		changed = true;
		i++;
	}
	if (changed)
		state_save_revokes(d);
}

void secrets_reconcile(struct daemon *d)
{
	struct dirent *de;
	DIR *dh = opendir(d->cfg.secrets_dir);

	while (dh && (de = readdir(dh))) {
		char path[PATH_MAX + 300], file[PATH_MAX + 600];
		struct dirent *fe;
		__u64 id;
		DIR *fh;

		if (de->d_name[0] == '.' || ts_task_id_parse(de->d_name, &id) || task_find(d, id))
			continue;
		/* Secrets of a task no record explains: gone, unrevokable (the
		 * command was in the lost record), and said so. */
		snprintf(path, sizeof(path), "%s/%s", d->cfg.secrets_dir, de->d_name);
		fh = opendir(path);
		while (fh && (fe = readdir(fh))) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, fe->d_name);
			unlink(file);
		}
		if (fh)
			closedir(fh);
		rmdir(path);
		ts_kernel_secrets_clear(d->k, id);
		events_lifecycle(d, id, "secret removed", 3, "secrets of an unknown task removed",
				 "\"reason\":\"orphan\"");
	}
	if (dh)
		closedir(dh);
}

json_t *secrets_json(const struct task *t)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < t->nsecrets; i++)
		json_array_append_new(arr, json_pack("{s:s, s:b, s:b, s:s?, s:I}", "name",
						     t->secrets[i].name, "file",
						     t->secrets[i].deliver_file, "env",
						     t->secrets[i].deliver_env, "revoke",
						     t->secrets[i].revoke, "ino",
						     (json_int_t)t->secrets[i].ino));
	return arr;
}

json_t *revoke_job_json(const struct revoke_job *j)
{
	char id[17];

	ts_task_id_text(j->task_id, id);
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:i}", "task", id, "name", j->name,
			 "command", j->command, "uid", (int)j->uid, "gid", (int)j->gid, "spiffe",
			 j->spiffe, "attempts", (int)j->attempts);
}

int revoke_job_from_json(json_t *v, struct revoke_job *j)
{
	const char *task, *name, *command, *spiffe;
	int uid, gid, attempts;

	memset(j, 0, sizeof(*j));
	if (json_unpack(v, "{s:s, s:s, s:s, s:i, s:i, s:s, s:i}", "task", &task, "name", &name,
			"command", &command, "uid", &uid, "gid", &gid, "spiffe", &spiffe,
			"attempts", &attempts) ||
	    ts_task_id_parse(task, &j->task_id) || strlen(name) > TS_SECRET_NAME_MAX)
		return -EINVAL;
	memcpy(j->name, name, strlen(name) + 1);
	snprintf(j->spiffe, sizeof(j->spiffe), "%s", spiffe);
	j->command = strdup(command);
	j->uid = (uid_t)uid;
	j->gid = (gid_t)gid;
	j->attempts = (unsigned int)attempts;
	return j->command ? 0 : -ENOMEM;
}
