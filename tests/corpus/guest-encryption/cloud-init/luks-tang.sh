#!/bin/sh
set -eu
apt-get install -y cryptsetup clevis clevis-luks
head -c 64 /dev/urandom > /run/initial.key
cryptsetup luksFormat --batch-mode --type luks2 /dev/vdb /run/initial.key
clevis luks bind -y -k /run/initial.key -d /dev/vdb tang '{"url": "https://tang.example.se"}'
cryptsetup luksKillSlot --batch-mode /dev/vdb 0
