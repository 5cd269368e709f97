#!/usr/bin/perl
# Amanda's own changer, chg-robot (Amanda::Changer::robot from Debian 12's amanda-server), on a
# library of tapestreamd through tapestream-mtx, without amtape or a backup set-up: an Amanda
# configuration in CONFDIR (amanda.conf, written by mtx_test.py) whose changer "robot" has
# property "mtx" set to tapestream-mtx. Prints what chg-robot answered, one line each, for
# mtx_test.py to check:
#   inventory SLOT full|empty BARCODE|- ie|-
#   loaded SLOT DRIVE
#   inventory-after-load SLOT full|empty|loaded-in-DRIVE BARCODE|-
#   ejected
#   moved FROM TO
# Usage: amanda_chg_robot.pl CONFDIR. Exit 0 when every call answered without an error.
use strict;
use warnings;

use Amanda::Config qw( :init :getconf config_dir_relative );
use Amanda::Changer;
use Amanda::MainLoop;

my ($confdir) = @ARGV;
chdir $confdir or die "cd $confdir: $!";
config_init($CONFIG_INIT_EXPLICIT_NAME, ".");
my ($level, @errors) = config_errors();
die "amanda.conf: @errors" if $level >= $CFGERR_WARNINGS;

my $chg = Amanda::Changer->new("robot");
die "chg-robot: $chg" if $chg->isa("Amanda::Changer::Error");

my $failed = 0;
sub failed { my ($what, $err) = @_; print "error $what: $err\n"; $failed = 1; Amanda::MainLoop::quit(); }

sub show_inventory {
    my ($tag, $next) = @_;
    $chg->inventory(inventory_cb => sub {
        my ($err, $inventory) = @_;
        return failed($tag, $err) if $err;
        for my $slot (@$inventory) {
            my $state = $slot->{'state'} == Amanda::Changer::SLOT_FULL ? "full" : "empty";
            $state = "loaded-in-$slot->{loaded_in}" if defined $slot->{'loaded_in'};
            printf "%s %s %s %s %s\n", $tag, $slot->{'slot'}, $state,
                $slot->{'barcode'} // "-", $slot->{'import_export'} ? "ie" : "-";
        }
        $next->();
    });
}

show_inventory("inventory", sub {
    $chg->load(slot => 2, res_cb => sub {
        my ($err, $res) = @_;
        return failed("load", $err) if $err;
        print "loaded $res->{this_slot} $res->{drive}\n";
        $res->release(finished_cb => sub {
            my ($err) = @_;
            return failed("release", $err) if $err;
            show_inventory("inventory-after-load", sub {
                $chg->eject(drive => $res->{'drive'}, finished_cb => sub {
                    my ($err) = @_;
                    return failed("eject", $err) if $err;
                    print "ejected\n";
                    $chg->move(from_slot => 3, to_slot => 5, finished_cb => sub {
                        my ($err) = @_;
                        return failed("move", $err) if $err;
                        print "moved 3 5\n";
                        Amanda::MainLoop::quit();
                    });
                });
            });
        });
    });
});
Amanda::MainLoop::run();
$chg->quit();
exit $failed;
