# expect: failed — prints the right list, computed in the script's own process: no Pool at all
def square(x):
    return x * x


if __name__ == "__main__":
    print([square(x) for x in range(10)])
