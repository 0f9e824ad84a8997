// Boost.Asio's implementation, compiled once here (BOOST_ASIO_SEPARATE_COMPILATION,
// set for the whole library) instead of inline in every file that uses it:
// it keeps the proxy's rebuilds short on a 2-core machine.
#include <boost/asio/impl/src.hpp>
