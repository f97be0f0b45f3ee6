#pragma once

#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace jpc::jibri {

// The error half of a Result, so that `return fail(error);` converts to any Result<T, E>.
template <class E>
struct Failure {
    E error;
};

template <class E>
Failure<std::decay_t<E>> fail(E&& error) {
    return Failure<std::decay_t<E>>{std::forward<E>(error)};
}

// A value or an error, in the spirit of C++23's std::expected (not in g++ 12's C++20 library).
template <class T, class E>
class Result {
public:
    Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
    // Builds the value in place from anything T is constructible from, such as one
    // alternative of a std::variant T, without a temporary T.
    template <class U>
        requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, T> &&
                 !std::is_same_v<std::decay_t<U>, Result> &&
                 !std::is_same_v<std::decay_t<U>, Failure<E>>)
    Result(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}
    Result(Failure<E> failure) : storage_(std::in_place_index<1>, std::move(failure.error)) {}

    bool ok() const { return storage_.index() == 0; }
    explicit operator bool() const { return ok(); }

    // Throws std::logic_error when the result contains an error.
    const T& value() const& { return std::get<0>(checked_value()); }
    T& value() & { return std::get<0>(checked_value()); }
    T&& value() && { return std::move(std::get<0>(checked_value())); }

    // Throws std::logic_error when the result contains a value.
    const E& error() const {
        if (ok()) {
            throw std::logic_error("Result::error() called on a result that contains a value");
        }
        return std::get<1>(storage_);
    }

private:
    std::variant<T, E>& checked_value() {
        if (!ok()) {
            throw std::logic_error("Result::value() called on a result that contains an error");
        }
        return storage_;
    }
    const std::variant<T, E>& checked_value() const {
        if (!ok()) {
            throw std::logic_error("Result::value() called on a result that contains an error");
        }
        return storage_;
    }

    std::variant<T, E> storage_;
};

}  // namespace jpc::jibri
