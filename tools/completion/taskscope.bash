# SPDX-License-Identifier: MIT
# bash completion for taskscope(1)

_taskscope_tasks()
{
	taskscope --json list 2>/dev/null | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4
}

_taskscope()
{
	local cur prev words cword
	_init_completion || return

	local commands="run start enroll end list show grant events audit policy doctor version"
	local i cmd=""
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		--socket) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands --json --quiet --verbose --socket --help" -- "$cur"))
		return
	fi
	case "$prev" in
	--policy | --file) _filedir json; return ;;
	--workdir) _filedir -d; return ;;
	--socket) _filedir; return ;;
	--task) COMPREPLY=($(compgen -W "$(_taskscope_tasks)" -- "$cur")); return ;;
	--ttl | --for | --name | --pid) return ;;
	esac
	case "$cmd" in
	run | start) COMPREPLY=($(compgen -W "--policy --ttl --name --workdir --" -- "$cur")) ;;
	enroll) COMPREPLY=($(compgen -W "$(_taskscope_tasks) --pid --" -- "$cur")) ;;
	end | show) COMPREPLY=($(compgen -W "$(_taskscope_tasks)" -- "$cur")) ;;
	grant)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--for" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_taskscope_tasks) exec: read: write: connect:" -- "$cur"))
		fi
		;;
	events) COMPREPLY=($(compgen -W "--follow --task" -- "$cur")) ;;
	audit) COMPREPLY=($(compgen -W "$(_taskscope_tasks) --file" -- "$cur")) ;;
	policy)
		if [[ $prev == policy ]]; then
			COMPREPLY=($(compgen -W "check explain" -- "$cur"))
		else
			_filedir json
		fi
		;;
	esac
}
complete -F _taskscope taskscope
