/* placeholder: the real test is being written */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "test_launch: not written yet\n");
	return 1;
}
