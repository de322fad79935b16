#ifndef FAKE_COMMON_H
#define FAKE_COMMON_H
#endif
