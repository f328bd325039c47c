# new in 2014.2.1
CELLS = []
