#!/bin/bash
# The scenarios of the `systemd` suite (bring-up: the boot only).
echo "guest: the scenarios start at $(cut -d' ' -f1 /proc/uptime) s; PID 1 is $(cat /proc/1/comm)"
echo "TAPESTREAM-VM-RESULT 0"
sync
systemctl poweroff -ff
