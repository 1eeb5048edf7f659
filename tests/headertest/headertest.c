/* The public headers must compile on their own under -pedantic -Werror. */
#include "lw.h"

int main(void)
{
	return lw_error_last() == NULL;
}
