#include "common/ThreadName.h"

#include <pthread.h>

#include <cstring>

namespace depot {

void nameThisThread(const char* name) {
    char cut[16] = {};
    std::strncpy(cut, name, sizeof cut - 1);
    pthread_setname_np(pthread_self(), cut);
}

}  // namespace depot
