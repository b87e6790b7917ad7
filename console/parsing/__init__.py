"""What a trader types, parsed in plain Python: numbers, the order and chase tickets, the command grammar."""
