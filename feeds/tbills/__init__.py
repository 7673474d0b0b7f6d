"""Fed Treasury-bill purchases.

NY Fed operations, the schedule, the program tally and FRED liquidity.
"""
