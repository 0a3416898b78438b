"""Random inputs and random faults by the thousand (hypothesis): make fuzz EXAMPLES=... runs them longer."""
