"""The candidate code under test: what a user of the runner submits."""


def add(a, b):
    return a + b


def fizzbuzz(n):
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    return str(n)


def word_count(text):
    return len(text.split())
