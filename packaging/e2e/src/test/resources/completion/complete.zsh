# Types "rackroll deplo" and TAB twice in an interactive zsh (on a pseudo-terminal) whose fpath
# holds the directory $1 with _rackroll; prints the listing zsh shows. Reads until the listing
# arrives: the caller's timeout bounds it.
zmodload zsh/zpty
zpty z 'TERM=dumb zsh -f -i'
zpty -w z "PROMPT='%% '; fpath=($1 \$fpath); autoload -U compinit; compinit -u; function rackroll { :; }"
zpty -w -n z $'rackroll deplo\t\t'
zpty -r -m z out '*deployments*'
print -r -- "$out" | tr -d '\r' | grep -a 'deployments'
zpty -d z
