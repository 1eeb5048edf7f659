/*
 * A well-behaved process model for the tests (docs/model-protocol.md):
 * for each row it returns two columns, the row's sum and its largest value.
 *
 *   echo_model [INPUT_DIM [stream]]
 *
 * INPUT_DIM goes in the hello (0: any); "stream" answers row by row while
 * still reading the batch, which a host that only writes then reads would
 * deadlock on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_all(void *p, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(0, (char *)p + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void write_all(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n)
		exit(1);
}

static void answer(const double *x, uint64_t cols)
{
	double y[2] = { 0, cols ? x[0] : 0 };

	for (uint64_t j = 0; j < cols; j++) {
		y[0] += x[j];
		if (x[j] > y[1])
			y[1] = x[j];
	}
	write_all(y, sizeof(y));
}

int main(int argc, char **argv)
{
	uint32_t hello[4] = { 0, 1, argc > 1 ? (uint32_t)atoi(argv[1]) : 0, 2 };
	int stream = argc > 2 && !strcmp(argv[2], "stream");
	uint64_t head[2];

	memcpy(hello, "LWMP", 4);
	write_all(hello, sizeof(hello));
	fflush(stdout);
	while (read_all(head, sizeof(head)) == 0) {
		uint64_t rows = head[0], cols = head[1];
		double *x = malloc((stream ? 1 : rows) * cols * sizeof(double) + 8);

		head[1] = 2;
		if (stream)
			write_all(head, sizeof(head));
		for (uint64_t i = 0; i < rows; i++) {
			double *row = x + (stream ? 0 : i * cols);

			if (!x || read_all(row, cols * sizeof(double)) != 0)
				return 1;
			if (stream)
				answer(row, cols);
		}
		if (!stream) {
			write_all(head, sizeof(head));
			for (uint64_t i = 0; i < rows; i++)
				answer(x + i * cols, cols);
		}
		fflush(stdout);
		free(x);
	}
	return 0;
}
