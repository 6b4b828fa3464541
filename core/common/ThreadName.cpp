#include "common/ThreadName.h"

#include <pthread.h>

#include <cstring>
#include <string>

namespace depot {

void nameThisThread(const char* name) {
    std::string cut(name, std::min<size_t>(std::strlen(name), 15));
    pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace depot
