/*
 * learnware spec image, and spec dist / show on image specifications
 * (cmd_spec_image.c), called from cmd_spec.c's dispatch.
 */
#ifndef LW_CLI_SPEC_IMAGE_H
#define LW_CLI_SPEC_IMAGE_H

/*
 * Run `spec <sub>` when it concerns images: `image`, or `dist` / `show` / `herd`
 * whose first file is an image specification.  Returns the exit code, or
 * -1 when the command is not an image one (the caller goes on).
 */
int cmd_spec_image_dispatch(const char *sub, int argc, char **argv);

#endif
